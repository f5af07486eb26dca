"""A checkpoint's format from its content; what non-checkpoints look
like."""
import json

import numpy as np
import pytest
import torch

from kdiga_mmrazor.checkpoint import CorruptCheckpointError, sniff_format
from kdiga_mmrazor.checkpoint.formats import (
    PICKLE,
    SAFETENSORS,
    TORCH_ZIP,
    describe_content,
)

from .conftest import weights


def _write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_torch_zip_legacy_and_safetensors_are_told_apart_by_content(
        tmp_path):
    from safetensors.torch import save_file
    zip_path, legacy, legacy0, st = (str(tmp_path / n) for n in (
        'a.safetensors', 'b.safetensors', 'c.bin', 'd.pth'))
    torch.save(weights(), zip_path)
    torch.save(weights(), legacy, _use_new_zipfile_serialization=False)
    torch.save(weights(), legacy0, _use_new_zipfile_serialization=False,
               pickle_protocol=0)
    save_file(weights(), st)
    assert [sniff_format(p) for p in (zip_path, legacy, legacy0, st)] == [
        TORCH_ZIP, PICKLE, PICKLE, SAFETENSORS]


def test_empty_file_is_refused_by_name(tmp_path):
    path = _write(tmp_path, 'empty.pth', b'')
    with pytest.raises(CorruptCheckpointError) as info:
        sniff_format(path)
    assert str(info.value) == (
        f"checkpoint {path!r} is empty (0 bytes): its save or copy was "
        'interrupted; re-save it or use an intact copy')


@pytest.mark.parametrize('data, says', [
    (b'hello world\nsecond line', "a text file (starts with 'hello world')"),
    (json.dumps({'lr': 0.1, 'steps': [1, 2]}).encode(),
     'a JSON file (starts with \'{"lr": 0.1, "steps": [1, 2]}\')'),
    (b'{"broken": ', 'text starting like JSON'),
    (b'<!DOCTYPE html>\n<html><body>Sign in</body></html>',
     'an HTML page (a download that returned a web page?)'),
    (b'version https://git-lfs.github.com/spec/v1\noid sha256:ab\n',
     'a Git LFS pointer, not a checkpoint; fetch the file it points to'),
    (b'\xff\xd8\xff\xe0\x00\x10JFIF\x00' + bytes(range(256)),
     'a JPEG image, not a checkpoint'),
    (b'\x89PNG\r\n\x1a\n' + bytes(64), 'a PNG image'),
    (b'\x1f\x8b\x08\x00' + bytes(64), 'gzip-compressed data'),
    (b'PK\x05\x06' + bytes(18), 'an empty zip archive'),
])
def test_non_checkpoints_are_named_for_what_they_are(tmp_path, data, says):
    path = _write(tmp_path, 'model.pth', data)
    with pytest.raises(CorruptCheckpointError) as info:
        sniff_format(path)
    message = str(info.value)
    assert message.startswith(f'checkpoint {path!r} cannot be loaded: it '
                              'is ')
    assert says in message


def test_numpy_files_are_not_read_as_pickles(tmp_path):
    path = tmp_path / 'arr.npy'
    np.save(path, np.array([{'a': 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CorruptCheckpointError,
                       match=r'arr.npy.*a NumPy .npy array file'):
        sniff_format(str(path))


def test_random_bytes_show_their_first_bytes_and_size(tmp_path):
    data = bytes([0x83, 0x01, 0xFE, 0x00, 0x10, 0x20, 0x30, 0x40]) * 8
    path = _write(tmp_path, 'noise.pth', data)
    with pytest.raises(CorruptCheckpointError) as info:
        sniff_format(path)
    assert ('not in any checkpoint format (first bytes 83 01 fe 00 10 20 '
            '30 40, 64 bytes in all)') in str(info.value)


def test_json_whose_ninth_byte_is_a_brace_is_not_safetensors(tmp_path):
    data = b'{"abcd":{"x": 1}}'
    assert data[8:9] == b'{'
    path = _write(tmp_path, 'cfg.safetensors', data)
    with pytest.raises(CorruptCheckpointError, match='a JSON file'):
        sniff_format(path)


def test_safetensors_with_a_length_past_the_end_is_still_safetensors(
        tmp_path):
    data = (10**9).to_bytes(8, 'little') + b'{"w": {}}'
    assert sniff_format(_write(tmp_path, 'cut.bin', data)) == SAFETENSORS


def test_describe_content_of_a_tar_archive(tmp_path):
    head = bytes(257) + b'ustar' + bytes(100)
    assert describe_content('x', head, len(head)).startswith(
        'it is a tar archive, not a checkpoint; extract it first')

"""A torch zip must be whole and pass its CRC-32s; tensors must match the
digest recorded at save time."""
import numpy as np
import pytest
import torch

from kdiga_mmrazor.checkpoint import (
    CheckpointDigestError,
    CorruptCheckpointError,
    state_dict_digest,
    verify_state_dict_digest,
    verify_torch_zip,
)
from kdiga_mmrazor.checkpoint.integrity import data_pickle

from .conftest import flip_byte, flip_in_entry, truncate, weights


@pytest.fixture
def saved(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'state_dict': weights()}, path)
    return path


def test_an_intact_checkpoint_passes_and_torch_ignores_a_flipped_tensor(
        saved, tmp_path):
    verify_torch_zip(saved)
    flip_in_entry(saved)
    # why the check exists: torch loads the damaged weights silently
    loaded = torch.load(saved, weights_only=True)['state_dict']
    assert not torch.equal(loaded['conv.weight'], weights()['conv.weight'])


def test_a_flipped_byte_in_a_tensor_names_the_file_and_the_entry(saved):
    entry = flip_in_entry(saved, 'data/0', at=7)
    with pytest.raises(CorruptCheckpointError) as info:
        verify_torch_zip(saved)
    assert str(info.value) == (
        f'checkpoint {saved!r} is damaged: zip entry {entry!r} (the raw '
        'bytes of a tensor storage) fails its check (BadZipFile: Bad '
        f"CRC-32 for file {entry!r}). The file changed after it was saved "
        '(a bad disk, copy or transfer); use an intact copy (re-save, '
        're-copy or re-download it)')


def test_a_flipped_byte_in_data_pkl_is_refused(saved):
    entry = flip_in_entry(saved, 'data.pkl', at=3)
    with pytest.raises(CorruptCheckpointError,
                       match=rf"zip entry '{entry}' \(the pickle that lays "
                       'out the checkpoint'):
        verify_torch_zip(saved)


@pytest.mark.parametrize('fraction', [0.5, 0.9, 0.999])
def test_a_cut_zip_is_refused_as_truncated(saved, fraction):
    truncate(saved, fraction)
    with pytest.raises(CorruptCheckpointError) as info:
        verify_torch_zip(saved)
    assert str(info.value).startswith(
        f'checkpoint {saved!r} is a truncated or damaged zip archive (the '
        'torch.save format): BadZipFile')
    assert 'save was interrupted (a killed job' in str(info.value)


def test_a_broken_central_directory_is_refused(saved):
    with open(saved, 'rb') as f:
        directory = f.read().find(b'PK\x01\x02')
    flip_byte(saved, directory + 1)  # its first entry's signature
    with pytest.raises(CorruptCheckpointError, match='truncated or damaged'):
        verify_torch_zip(saved)


def test_a_zip_that_is_not_a_torch_checkpoint(tmp_path):
    path = tmp_path / 'arrays.pth'
    with open(path, 'wb') as f:
        np.savez(f, a=np.arange(3))
    with pytest.raises(CorruptCheckpointError) as info:
        verify_torch_zip(str(path))
    assert str(info.value) == (
        f"checkpoint {str(path)!r} is a zip archive but not a torch "
        "checkpoint (no data.pkl; entries ['a.npy']); check the path")


def test_torchscript_is_refused_as_a_program(tmp_path):
    path = str(tmp_path / 'scripted.pt')
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(CorruptCheckpointError,
                       match=r'scripted.pt.* is a TorchScript archive'):
        verify_torch_zip(path)


def test_data_pickle_reads_the_layout_pickle(saved):
    assert data_pickle(saved)[:2] == b'\x80\x02'


def test_a_matching_digest_passes_and_no_digest_passes():
    sd = weights()
    verify_state_dict_digest(
        {'state_dict': sd, 'meta': {'state_dict_digest':
                                    state_dict_digest(sd)}}, 'x.pth')
    verify_state_dict_digest({'state_dict': sd, 'meta': {}}, 'x.pth')
    verify_state_dict_digest(sd, 'x.pth')
    verify_state_dict_digest([1, 2], 'x.pth')


def test_an_edited_weight_is_refused_with_both_digests():
    sd = weights()
    recorded = state_dict_digest(sd)
    sd['conv.bias'][0] += 1e-6
    actual = state_dict_digest(sd)
    with pytest.raises(CheckpointDigestError) as info:
        verify_state_dict_digest(
            {'state_dict': sd, 'meta': {'state_dict_digest': recorded}},
            'run/iter_4.pth')
    assert str(info.value) == (
        "checkpoint 'run/iter_4.pth' does not hold the weights it was saved "
        f'with: its state_dict digest is {actual}, meta.state_dict_digest '
        f'recorded {recorded}. The tensors were edited or damaged after '
        'saving; use an intact copy (re-save, re-copy or re-download it) '
        "(after an intended edit, delete meta['state_dict_digest'] and "
        'save it again)')


def test_a_digest_without_a_state_dict_is_refused():
    with pytest.raises(CheckpointDigestError, match='has no state_dict'):
        verify_state_dict_digest({'meta': {'state_dict_digest': 'ab'}},
                                 'x.pth')

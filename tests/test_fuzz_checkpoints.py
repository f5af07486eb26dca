"""Every kind of checkpoint file, good and bad, through every public way
of loading one.

Payloads: torch zip, legacy torch format and safetensors (they load, to
the same weights); pickles that would run code (``os.system``,
``builtins.exec``, a ``getattr`` chain, a raw ``__reduce__``, a numpy
object array holding one; each would create a marker file and set an
environment variable); and damaged or foreign files (empty, truncated,
bit-flipped, text, JSON, ``.npy``, JPEG, random bytes, a safetensors file
with a damaged header). Entry points: ``safe_torch_load``,
``load_state_dict_checked``, MMEngine's ``load_checkpoint``,
``CheckpointLoader.load_checkpoint`` and ``_load_checkpoint``.

For each pair: the exact error class, the file named in the message, no
advice to turn ``weights_only`` off anywhere in the error chain, and
nothing run. Seeded random bit flips and cuts of a zip checkpoint are
refused or load the very same weights, never different ones.
"""
import builtins
import io
import os
import pickle
import re

import numpy as np
import pytest
import torch
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint
from torch import nn

from kdiga_mmrazor.checkpoint import (
    CorruptCheckpointError,
    UnsafeCheckpointError,
    extract_state_dict,
    load_state_dict_checked,
    safe_torch_load,
)

from .test_checkpoint.conftest import flip_byte, flip_in_entry, truncate

ENV_FLAG = 'KDIGA_FUZZ_PAYLOAD_RAN'
NO_ADVICE = re.compile(r'weights_only\W{0,3}(=|set to)\W{0,3}False',
                       re.IGNORECASE)
WHO = 'fuzz: model.teacher_ckpt'


class TinyNet(nn.Module):

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc = nn.Linear(16, 4)
        self.bn = nn.BatchNorm1d(4)


def _weights() -> dict:
    return TinyNet(seed=1).state_dict()


class SystemOnLoad:
    """``os.system('touch MARKER')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class ExecOnLoad:
    """``builtins.exec(...)``: sets the flag, writes the marker."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (builtins.exec, (
            f'import os; os.environ[{ENV_FLAG!r}] = "1"; '
            f'open({self.marker!r}, "w").close()', ))


def _getattr_chain(marker: str) -> bytes:
    """``getattr(__import__('os'), 'system')('touch MARKER')``, hand
    assembled (pickle protocol 2)."""

    def text(s: str) -> bytes:
        return b'X' + len(s).to_bytes(4, 'little') + s.encode()

    return (b'\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\n' +
            text('os') + b'\x85R' + text('system') + b'\x86R' +
            text(f'touch {marker}') + b'\x85R.')


def _jpeg() -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(buffer, 'JPEG')
    return buffer.getvalue()


def _save(obj, path, legacy=False):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)


def _safetensors(path):
    from safetensors.torch import save_file
    save_file(_weights(), path)


def _bytes(data):
    return lambda path, marker: open(path, 'wb').write(data)


def _then(build, damage):

    def make(path, marker):
        build(path, marker)
        damage(path)

    return make


GOOD = {
    'torch_zip': lambda p, m: _save({'state_dict': _weights()}, p),
    'legacy': lambda p, m: _save({'state_dict': _weights()}, p, True),
    'safetensors': lambda p, m: _safetensors(p),
}
UNSAFE = {
    'zip_os_system': lambda p, m: _save(
        {'state_dict': _weights(), 'x': SystemOnLoad(m)}, p),
    'zip_builtins_exec': lambda p, m: _save(
        {'state_dict': _weights(), 'x': ExecOnLoad(m)}, p),
    'legacy_os_system': lambda p, m: _save(
        {'state_dict': _weights(), 'x': SystemOnLoad(m)}, p, True),
    'numpy_object_array': lambda p, m: _save(
        {'state_dict': _weights(),
         'x': np.array([SystemOnLoad(m), 1], dtype=object)}, p),
    'getattr_chain': lambda p, m: open(p, 'wb').write(_getattr_chain(m)),
    'raw_reduce_p2': lambda p, m: open(p, 'wb').write(
        pickle.dumps(SystemOnLoad(m), protocol=2)),
    'raw_reduce_p5_exec': lambda p, m: open(p, 'wb').write(
        pickle.dumps({'w': ExecOnLoad(m)}, protocol=5)),
}
CORRUPT = {
    'empty': _bytes(b''),
    'truncated_zip': _then(GOOD['torch_zip'], truncate),
    'truncated_legacy': _then(GOOD['legacy'], truncate),
    'bit_flipped_zip': _then(GOOD['torch_zip'], flip_in_entry),
    'text': _bytes(b'these are not the weights you are looking for\n'),
    'json': _bytes(b'{"state_dict": {"fc.weight": [[0.1, 0.2]]}}'),
    'npy': lambda p, m: np.save(open(p, 'wb'), np.arange(12.0)),
    'npy_object_array': lambda p, m: np.save(
        open(p, 'wb'), np.array([SystemOnLoad(m)], dtype=object),
        allow_pickle=True),
    'jpeg': lambda p, m: open(p, 'wb').write(_jpeg()),
    'random_bytes': lambda p, m: open(p, 'wb').write(
        np.random.default_rng(0).bytes(4096)),
    'plain_pickle': lambda p, m: open(p, 'wb').write(
        pickle.dumps({'fc.weight': [0.1, 0.2]}, protocol=5)),
    'safetensors_bad_header': _then(GOOD['safetensors'],
                                    lambda p: flip_byte(p, 20)),
    'safetensors_truncated': _then(GOOD['safetensors'], truncate),
}


def _safe(path):
    return safe_torch_load(path)


def _checked(path):
    model = TinyNet()
    load_state_dict_checked(model, path, who=WHO)
    return model.state_dict()


def _mmengine_load_checkpoint(path):
    model = TinyNet()
    load_checkpoint(model, path, strict=True)
    return model.state_dict()


def _checkpoint_loader(path):
    return CheckpointLoader.load_checkpoint(path, map_location=None)


def _private_load_checkpoint(path):
    return _load_checkpoint(path, map_location='cpu')


ENTRY_POINTS = {
    'safe_torch_load': _safe,
    'load_state_dict_checked': _checked,
    'mmengine.load_checkpoint': _mmengine_load_checkpoint,
    'CheckpointLoader.load_checkpoint': _checkpoint_loader,
    '_load_checkpoint': _private_load_checkpoint,
}
# the others load into a model and return its state dict
RETURN_CHECKPOINTS = ('safe_torch_load', 'CheckpointLoader.load_checkpoint',
                      '_load_checkpoint')


@pytest.fixture(autouse=True)
def _no_flag(monkeypatch):
    monkeypatch.delenv(ENV_FLAG, raising=False)


def _make(tmp_path, build, suffix='.pth'):
    marker = str(tmp_path / 'payload_ran')
    path = str(tmp_path / f'checkpoint{suffix}')
    build(path, marker)
    return path, marker


def _assert_nothing_ran(marker):
    assert not os.path.exists(marker)
    assert ENV_FLAG not in os.environ


def _assert_clean_refusal(error, path, cls):
    assert type(error) is cls, f'{type(error).__name__}: {error}'
    assert path in str(error)
    chain, seen = [], error
    while seen is not None:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for link in chain:
        assert not NO_ADVICE.search(str(link)), str(link)


@pytest.mark.parametrize('entry', ENTRY_POINTS)
@pytest.mark.parametrize('payload', GOOD)
def test_good_payloads_load_the_same_weights(tmp_path, payload, entry):
    path, _ = _make(tmp_path, GOOD[payload])
    loaded = ENTRY_POINTS[entry](path)
    if entry in RETURN_CHECKPOINTS:
        loaded = extract_state_dict(loaded)
    expected = _weights()
    assert sorted(loaded) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


@pytest.mark.parametrize('entry', ENTRY_POINTS)
@pytest.mark.parametrize('payload', UNSAFE)
def test_pickles_that_run_code_are_refused_and_never_run(
        tmp_path, payload, entry):
    path, marker = _make(tmp_path, UNSAFE[payload])
    with pytest.raises(UnsafeCheckpointError) as info:
        ENTRY_POINTS[entry](path)
    _assert_clean_refusal(info.value, path, UnsafeCheckpointError)
    assert 'could run code' in str(info.value)
    _assert_nothing_ran(marker)


@pytest.mark.parametrize('entry', ENTRY_POINTS)
@pytest.mark.parametrize('payload', CORRUPT)
def test_damaged_and_foreign_files_are_refused_by_name(
        tmp_path, payload, entry):
    path, marker = _make(tmp_path, CORRUPT[payload])
    with pytest.raises(CorruptCheckpointError) as info:
        ENTRY_POINTS[entry](path)
    _assert_clean_refusal(info.value, path, CorruptCheckpointError)
    assert 'could run code' not in str(info.value)
    if entry == 'load_state_dict_checked':
        assert str(info.value).startswith(f'{WHO}: checkpoint ')
    _assert_nothing_ran(marker)


@pytest.mark.parametrize('entry', ENTRY_POINTS)
def test_a_missing_file_is_named(tmp_path, entry):
    path = str(tmp_path / 'nowhere.pth')
    with pytest.raises(FileNotFoundError) as info:
        ENTRY_POINTS[entry](path)
    assert path in str(info.value)


def test_random_bit_flips_of_a_zip_are_refused_or_change_nothing(
        tmp_path):
    reference, _ = _make(tmp_path, GOOD['torch_zip'])
    data = open(reference, 'rb').read()
    rng = np.random.default_rng(0)
    outcomes = {'refused': 0, 'same': 0}
    for i, offset in enumerate(rng.integers(0, len(data), 60)):
        path = str(tmp_path / f'flip{i}.pth')
        with open(path, 'wb') as f:
            f.write(data)
        flip_byte(path, int(offset))
        try:
            loaded = extract_state_dict(safe_torch_load(path))
        except CorruptCheckpointError as error:
            _assert_clean_refusal(error, path, CorruptCheckpointError)
            outcomes['refused'] += 1
            continue
        expected = _weights()  # it loaded: then exactly the weights
        assert sorted(loaded) == sorted(expected), offset
        assert all(torch.equal(loaded[k], v) for k, v in expected.items())
        outcomes['same'] += 1
    assert outcomes['refused'] > 30


@pytest.mark.parametrize('payload', ['torch_zip', 'legacy', 'safetensors'])
def test_every_cut_of_a_checkpoint_is_refused(tmp_path, payload):
    reference, _ = _make(tmp_path, GOOD[payload])
    data = open(reference, 'rb').read()
    lengths = sorted(set(np.random.default_rng(1).integers(
        1, len(data), 25).tolist()) | {1, 8, len(data) - 1})
    for n in lengths:
        path = str(tmp_path / f'cut{n}.pth')
        with open(path, 'wb') as f:
            f.write(data[:n])
        with pytest.raises(CorruptCheckpointError) as info:
            safe_torch_load(path)
        _assert_clean_refusal(info.value, path, CorruptCheckpointError)


@pytest.mark.parametrize('payload', ['legacy', 'safetensors', 'torch_zip'])
def test_random_damage_raises_only_the_packages_errors(tmp_path, payload):
    """Legacy and safetensors files carry no checksum, so some damage
    loads; whatever is refused is refused with this package's errors."""
    reference, marker = _make(tmp_path, GOOD[payload])
    data = open(reference, 'rb').read()
    rng = np.random.default_rng(2)
    refused = 0
    for i in range(150):
        damaged = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            damaged[int(rng.integers(0, len(data)))] ^= int(
                rng.integers(1, 256))
        path = str(tmp_path / f'damaged{i}.pth')
        with open(path, 'wb') as f:
            f.write(bytes(damaged))
        try:
            safe_torch_load(path)
        except (CorruptCheckpointError, UnsafeCheckpointError) as error:
            _assert_clean_refusal(error, path, type(error))
            refused += 1
    assert refused > 40
    _assert_nothing_ran(marker)

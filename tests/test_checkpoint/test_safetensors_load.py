"""safetensors files: a plain dict of tensors, damaged ones refused."""
import sys

import pytest
import torch
from safetensors.torch import save_file

from kdiga_mmrazor.checkpoint import CorruptCheckpointError, load_safetensors
from kdiga_mmrazor.checkpoint.safetensors_load import safetensors_device

from .conftest import flip_byte, truncate, weights


@pytest.fixture
def saved(tmp_path):
    path = str(tmp_path / 'w.safetensors')
    save_file(weights(), path)
    return path


def test_tensors_come_back_exactly_as_a_plain_dict(saved):
    loaded = load_safetensors(saved)
    assert type(loaded) is dict
    expected = weights()
    assert sorted(loaded) == sorted(expected)
    for key, value in expected.items():
        assert loaded[key].dtype == value.dtype
        assert torch.equal(loaded[key], value)


@pytest.mark.parametrize('map_location, device', [
    (None, 'cpu'), ('cpu', 'cpu'), (torch.device('cpu'), 'cpu'),
    ('cuda:1', 'cuda:1'), ({'cpu': 'cuda:0'}, 'cuda:0'),
    ({'cuda:0': 'cpu'}, 'cpu'), (lambda storage, loc: storage, 'cpu'),
])
def test_map_location_as_torch_load_takes_it(map_location, device):
    assert safetensors_device(map_location) == device


def test_an_unknown_map_location_is_refused():
    with pytest.raises(TypeError, match='got int'):
        safetensors_device(3)


def test_a_cut_file_names_its_header_length(saved):
    truncate(saved, 0.6)
    with pytest.raises(CorruptCheckpointError) as info:
        load_safetensors(saved)
    message = str(info.value)
    assert message.startswith(
        f'checkpoint {saved!r} is a damaged safetensors file: ')
    assert 'file not fully covered' in message


def test_a_damaged_header_is_refused(saved):
    flip_byte(saved, 12)  # inside the JSON header
    with pytest.raises(CorruptCheckpointError,
                       match=r'damaged safetensors file: SafetensorError: '
                       'Error while deserializing header'):
        load_safetensors(saved)


def test_a_header_length_past_the_end_is_refused(saved):
    with open(saved, 'r+b') as f:
        f.write((1 << 40).to_bytes(8, 'little'))
    with pytest.raises(CorruptCheckpointError,
                       match=r'header length field says 1099511627776 '
                       'bytes but the file has'):
        load_safetensors(saved)


def test_without_the_package_the_error_says_what_to_install(
        saved, monkeypatch):
    monkeypatch.setitem(sys.modules, 'safetensors', None)
    monkeypatch.setitem(sys.modules, 'safetensors.torch', None)
    with pytest.raises(ImportError, match=r'pip install safetensors'):
        load_safetensors(saved)

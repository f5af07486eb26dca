"""Checkpoints load with weights_only=True; code in a pickle never runs;
damaged files and non-checkpoints are refused by name."""
import os
import pickle
import re

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from mmpretrain.registry import MODELS

from kdiga_mmrazor.checkpoint import (
    CheckpointDigestError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    load_state_dict_checked,
    safe_torch_load,
    state_dict_digest,
)

from ..conftest import CHECKPOINTS
from .conftest import RunsOnLoad, weights


class CodeOnLoad:
    """Pickles to ``open(marker, 'w')``: a file appears if it ever runs."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def crafted(tmp_path):
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'crafted.pth'
    weights = MODELS.build(dict(type='ResNet4b')).state_dict()
    torch.save({'state_dict': weights, 'payload': CodeOnLoad(str(marker))},
               path)
    return str(path), marker


def test_safe_load_refuses_crafted_file_without_running_it(crafted):
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError,
                       match=r'refused .*crafted.pth.*GLOBAL io.open'):
        safe_torch_load(path)
    assert not marker.exists()


def test_mmengine_load_checkpoint_is_routed_through_safe_load(crafted):
    # load_checkpoint serves init_cfg=Pretrained, load_from, --resume and
    # MMRazor's teacher_ckpt.
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(MODELS.build(dict(type='ResNet4b')), path)
    assert not marker.exists()


def test_backbone_init_cfg_refuses_crafted_file(crafted):
    path, marker = crafted
    backbone = MODELS.build(
        dict(type='ResNet4b', init_cfg=dict(type='Pretrained',
                                            checkpoint=path)))
    with pytest.raises(UnsafeCheckpointError):
        backbone.init_weights()
    assert not marker.exists()


def test_single_teacher_distill_teacher_ckpt_refuses_crafted_file(crafted):
    from mmrazor.registry import MODELS as RAZOR_MODELS
    path, marker = crafted
    net = dict(_scope_='mmpretrain', type='ImageClassifier',
               backbone=dict(type='ResNet4b'), head=dict(type='ClsHead'))
    with pytest.raises(UnsafeCheckpointError):
        RAZOR_MODELS.build(
            dict(_scope_='mmrazor', type='SingleTeacherDistill',
                 architecture=net, teacher=net,
                 teacher_ckpt=path,
                 distiller=dict(type='ConfigurableDistiller')))
    assert not marker.exists()


def test_checked_loader_refuses_crafted_file(crafted):
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError):
        load_state_dict_checked(
            MODELS.build(dict(type='ResNet4b')), path, who='test')
    assert not marker.exists()


def test_mmengine_message_hub_and_numpy_state_load_under_weights_only(
        tmp_path):
    hub = MessageHub('test_safe_checkpoint')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 1.5)
    path = tmp_path / 'state.pth'
    torch.save({'message_hub': hub.state_dict(),
                'meta': {'seed': np.int64(7), 'arr': np.arange(3.0)}}, path)
    state = safe_torch_load(str(path))
    assert state['message_hub']['log_scalars']['train/loss'].mean() == 1.0
    assert state['meta']['seed'] == 7
    np.testing.assert_array_equal(state['meta']['arr'], [0.0, 1.0, 2.0])


class GetattrOnArray:
    """Pickles to ``getattr(numpy.ndarray, 'tofile')``."""

    def __reduce__(self):
        return (getattr, (np.ndarray, 'tofile'))


def test_getattr_allow_list_is_restricted_to_history_buffer(tmp_path):
    # The allow-listed getattr answers getattr(HistoryBuffer, 'min') only.
    path = tmp_path / 'getattr.pth'
    torch.save({'x': GetattrOnArray()}, path)
    with pytest.raises(UnsafeCheckpointError,
                       match='not an MMEngine statistics or annealing'):
        safe_torch_load(str(path))


def test_missing_checkpoint_names_the_config_keys(tmp_path):
    with pytest.raises(FileNotFoundError, match='teacher_ckpt'):
        safe_torch_load(str(tmp_path / 'nope.pth'))


def test_one_cycle_scheduler_state_loads_under_weights_only(tmp_path):
    from mmengine.optim.scheduler import OneCycleLR
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = OneCycleLR(optimizer, eta_max=0.02, total_steps=10)
    path = tmp_path / 'sched.pth'
    torch.save({'param_schedulers': [scheduler.state_dict()]}, path)
    state = safe_torch_load(str(path))['param_schedulers'][0]
    assert state['anneal_func'] is scheduler.anneal_func
    assert state['total_steps'] == 10


# -- formats, damage and map_location ---------------------------------------

NO_ADVICE = re.compile(r'weights_only\W{0,3}(=|set to)\W{0,3}False',
                       re.IGNORECASE)


def _chain(error: BaseException):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def test_legacy_format_with_plain_weights_loads(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'state_dict': weights()}, path,
               _use_new_zipfile_serialization=False)
    loaded = safe_torch_load(str(path))['state_dict']
    assert all(torch.equal(loaded[k], v) for k, v in weights().items())


def test_legacy_format_with_code_is_unsafe_and_nothing_runs(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'legacy.pth'
    torch.save({'state_dict': weights(), 'x': RunsOnLoad(str(marker))},
               path, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_torch_load(str(path))
    assert f'GLOBAL {os.system.__module__}.system' in str(info.value)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_a_protocol_5_pickle_calling_code_is_unsafe(tmp_path):
    # torch stops at FRAME before it sees the global: the scan finds it
    marker = tmp_path / 'ran'
    path = tmp_path / 'raw.pkl'
    path.write_bytes(pickle.dumps(RunsOnLoad(str(marker)), protocol=5))
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_torch_load(str(path))
    assert (f'it names {os.system.__module__}.system; torch stopped at: '
            'Unsupported operand 149 (FRAME)') in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize('protocol', [2, 5])
def test_a_pickle_of_plain_data_is_not_called_unsafe(tmp_path, protocol):
    path = tmp_path / 'plain.pkl'
    path.write_bytes(pickle.dumps({'lr': 0.1}, protocol=protocol))
    with pytest.raises(CorruptCheckpointError) as info:
        safe_torch_load(str(path))
    assert not isinstance(info.value, UnsafeCheckpointError)
    assert 'could run code' not in str(info.value)
    assert str(path) in str(info.value)


def test_a_torch_checkpoint_saved_with_protocol_4_is_named_as_such(
        tmp_path):
    path = tmp_path / 'p4.pth'
    torch.save(weights(), path, pickle_protocol=4)
    with pytest.raises(CorruptCheckpointError) as info:
        safe_torch_load(str(path))
    assert str(info.value) == (
        f'checkpoint {str(path)!r} cannot be read: its data.pkl names no '
        'code, yet torch cannot read it (Unsupported operand 149 (FRAME)). '
        'It is not a torch.save file, or it was written with an unusual '
        'pickle protocol, or it is damaged; save it again with torch.save '
        '(default protocol) or use an intact copy')


def test_refusals_carry_no_advice_to_turn_weights_only_off(crafted,
                                                          tmp_path):
    path, _ = crafted
    plain = tmp_path / 'plain.pkl'
    plain.write_bytes(pickle.dumps({'a': 1}, protocol=5))
    for target in (path, str(plain)):
        with pytest.raises(pickle.UnpicklingError if target == path else
                           CorruptCheckpointError) as info:
            safe_torch_load(target)
        for error in _chain(info.value):
            assert not NO_ADVICE.search(str(error)), str(error)
        assert info.value.__cause__ is None
        assert info.value.__context__ is None


def test_safetensors_load_by_content_whatever_the_suffix(tmp_path):
    from safetensors.torch import save_file
    as_pth = str(tmp_path / 'weights.pth')
    save_file(weights(), as_pth)
    zip_named_safetensors = str(tmp_path / 'ckpt.safetensors')
    torch.save(weights(), zip_named_safetensors)
    for path in (as_pth, zip_named_safetensors):
        loaded = safe_torch_load(path)
        assert sorted(loaded) == sorted(weights())
        assert all(torch.equal(loaded[k], v) for k, v in weights().items())


def test_a_recorded_digest_is_checked_on_every_load(tmp_path):
    sd = weights()
    meta = {'state_dict_digest': state_dict_digest(sd)}
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'state_dict': sd, 'meta': meta}, path)
    assert safe_torch_load(path)['meta'] == meta
    sd['conv.weight'][0, 0] = 42.0
    torch.save({'state_dict': sd, 'meta': meta}, path)
    with pytest.raises(CheckpointDigestError,
                       match=rf"checkpoint '{path}' does not hold the "
                       'weights it was saved with'):
        safe_torch_load(path)


def test_map_location_none_means_cpu_without_cuda(tmp_path, monkeypatch):
    from kdiga_mmrazor.checkpoint.safe_load import load_from_local
    path = str(tmp_path / 'w.pth')
    torch.save(weights(), path)
    seen = []
    real_load = torch.load

    def recording_load(f, map_location=None, **kwargs):
        seen.append((map_location, kwargs.get('weights_only')))
        return real_load(f, map_location=map_location, **kwargs)

    monkeypatch.setattr(torch, 'load', recording_load)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    load_from_local(path, None)
    CheckpointLoader.load_checkpoint(path, map_location=None)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    load_from_local(path, None)  # a GPU machine keeps torch's default
    load_from_local(path, 'cpu')
    assert seen == [('cpu', True), ('cpu', True), (None, True),
                    ('cpu', True)]


@pytest.mark.parametrize('name', sorted(
    n for n in os.listdir(CHECKPOINTS) if not n.startswith('LICENSE')))
def test_every_vendored_checkpoint_loads_with_map_location_none(name):
    # they were saved on CUDA: without a GPU, None must mean CPU
    checkpoint = CheckpointLoader.load_checkpoint(
        os.path.join(CHECKPOINTS, name), map_location=None)
    tensors = [v for v in checkpoint['state_dict'].values()
               if isinstance(v, torch.Tensor)]
    assert len(tensors) > 20
    if not torch.cuda.is_available():
        assert {t.device.type for t in tensors} == {'cpu'}


def test_a_cuda_checkpoint_with_map_location_cuda_on_a_cpu_machine(
        monkeypatch, tmp_path):
    path = str(tmp_path / 'w.pth')
    torch.save(weights(), path)

    def cuda_load(*args, **kwargs):
        raise RuntimeError(
            'Attempting to deserialize object on a CUDA device but '
            'torch.cuda.is_available() is False. If you are running on a '
            'CPU-only machine, please use torch.load with '
            "map_location=torch.device('cpu')")

    monkeypatch.setattr(torch, 'load', cuda_load)
    with pytest.raises(RuntimeError) as info:
        safe_torch_load(path, map_location='cuda')
    assert not isinstance(info.value, CorruptCheckpointError)
    assert str(info.value).startswith(
        f'checkpoint {path!r} holds CUDA tensors and this machine has no '
        'CUDA device')


def test_a_damaged_global_name_in_a_legacy_file_is_corrupt_not_unsafe(
        tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'state_dict': weights()}, path,
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    at = data.index(b'_rebuild_tensor_v2') + 6
    path.write_bytes(data[:at] + b'Q' + data[at + 1:])
    with pytest.raises(CorruptCheckpointError) as info:
        safe_torch_load(str(path))
    assert not isinstance(info.value, UnsafeCheckpointError)
    assert str(info.value).startswith(
        f"checkpoint {str(path)!r} (pickle format) is damaged: its pickle "
        "names 'torch._utils._rebuiQd_tensor_v2', which the installed "
        'packages do not have (torch stopped at: Unsupported global: GLOBAL '
        'torch._utils._rebuiQd_tensor_v2); damaged bytes')


def test_a_legacy_file_cut_inside_a_global_name_is_cut_not_unsafe(
        tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'state_dict': weights()}, path,
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[:data.index(b'_rebuild_tensor_v2') + 5])
    with pytest.raises(CorruptCheckpointError) as info:
        safe_torch_load(str(path))
    assert str(info.value).startswith(
        f'checkpoint {str(path)!r} (pickle format) is cut short: its pickle '
        'ends before it is complete (torch stopped at: Unsupported global: '
        'GLOBAL torch._utils._reb')  # torch drops the last byte read

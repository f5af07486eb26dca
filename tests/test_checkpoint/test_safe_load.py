"""Checkpoints load with weights_only=True; code in a pickle never runs."""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS

from kdiga_mmrazor.checkpoint import (
    UnsafeCheckpointError,
    load_state_dict_checked,
    safe_torch_load,
)


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

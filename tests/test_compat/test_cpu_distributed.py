"""cpu_distributed: MMEngine's PyTorch launcher and the DDP wrapper config
on machines without CUDA (no process group is started here)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.dist import utils as dist_utils

from kdiga_mmrazor.compat import cpu_distributed
from kdiga_mmrazor.compat.cpu_distributed import (
    _init_dist_pytorch_cpu_aware,
    cpu_ddp_cfg,
    patch_cpu_distributed,
)


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)


@pytest.fixture
def with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)


@pytest.fixture
def init_calls(monkeypatch):
    """``init_process_group`` and the original launcher, recorded."""
    calls = dict(init_process_group=[], original=[], log=[])
    monkeypatch.setattr(
        cpu_distributed.torch_dist, 'init_process_group',
        lambda **kwargs: calls['init_process_group'].append(kwargs))
    monkeypatch.setattr(
        cpu_distributed, '_original_init_dist_pytorch',
        lambda *args, **kwargs: calls['original'].append((args, kwargs)))
    monkeypatch.setattr(
        cpu_distributed, 'print_log',
        lambda msg, **kwargs: calls['log'].append((msg, kwargs['level'])))
    return calls


def test_importing_the_package_installs_the_cpu_aware_launcher():
    assert dist_utils._init_dist_pytorch is _init_dist_pytorch_cpu_aware


def test_patch_is_idempotent():
    patch_cpu_distributed()
    patch_cpu_distributed()
    assert dist_utils._init_dist_pytorch is _init_dist_pytorch_cpu_aware
    assert cpu_distributed._original_init_dist_pytorch is not \
        _init_dist_pytorch_cpu_aware


def test_without_cuda_nccl_becomes_gloo_with_a_warning(no_cuda, init_calls):
    _init_dist_pytorch_cpu_aware('nccl', timeout=5)
    assert init_calls['init_process_group'] == [
        dict(backend='gloo', timeout=5)]
    assert init_calls['original'] == []
    (msg, level), = init_calls['log']
    assert level == 30  # logging.WARNING
    assert 'env_cfg.dist_cfg.backend=gloo' in msg


def test_without_cuda_gloo_is_kept_silently(no_cuda, init_calls):
    _init_dist_pytorch_cpu_aware('gloo')
    assert init_calls['init_process_group'] == [dict(backend='gloo')]
    assert init_calls['log'] == []


def test_with_cuda_mmengine_launcher_runs(with_cuda, init_calls):
    _init_dist_pytorch_cpu_aware('nccl', timeout=5)
    assert init_calls['original'] == [(('nccl', 'torch'), dict(timeout=5))]
    assert init_calls['init_process_group'] == []


def test_other_init_backend_is_left_to_mmengine(no_cuda, init_calls):
    _init_dist_pytorch_cpu_aware('nccl', init_backend='deepspeed')
    assert init_calls['original'] == [(('nccl', 'deepspeed'), {})]
    assert init_calls['init_process_group'] == []


def test_cpu_ddp_cfg_sets_default_wrapper_without_device_ids(no_cuda):
    cfg = Config(dict(launcher='pytorch'))
    assert cpu_ddp_cfg(cfg).model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=False,
        device_ids=None)


def test_cpu_ddp_cfg_reads_find_unused_parameters(no_cuda):
    cfg = Config(dict(launcher='pytorch', find_unused_parameters=True))
    assert cpu_ddp_cfg(cfg).model_wrapper_cfg['find_unused_parameters']


def test_cpu_ddp_cfg_adds_device_ids_to_configured_wrapper(no_cuda):
    cfg = Config(
        dict(
            launcher='pytorch',
            model_wrapper_cfg=dict(
                type='MMDistributedDataParallel',
                find_unused_parameters=True)))
    assert cpu_ddp_cfg(cfg).model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        find_unused_parameters=True,
        device_ids=None)


def test_cpu_ddp_cfg_returns_the_same_config(no_cuda):
    cfg = Config(dict(launcher='pytorch'))
    assert cpu_ddp_cfg(cfg) is cfg


@pytest.mark.parametrize('cfg', [dict(), dict(launcher='none')])
def test_cpu_ddp_cfg_leaves_non_distributed_runs_alone(no_cuda, cfg):
    assert 'model_wrapper_cfg' not in cpu_ddp_cfg(Config(cfg))


def test_cpu_ddp_cfg_leaves_cuda_runs_alone(with_cuda):
    cfg = cpu_ddp_cfg(Config(dict(launcher='pytorch')))
    assert 'model_wrapper_cfg' not in cfg

"""MMEngine's PyTorch launcher on machines without a GPU.

MMEngine 0.10's ``_init_dist_pytorch`` always calls
``torch.cuda.set_device(local_rank)``, which raises on a CPU-only machine,
and the runner's default DDP wrapper passes ``device_ids=[local_rank]``,
which DDP refuses for CPU modules. :func:`patch_cpu_distributed` makes the
launcher skip the device call when no CUDA device exists (and use ``gloo``
instead of ``nccl`` there, with a warning); :func:`cpu_ddp_cfg` sets the
wrapper's ``device_ids=None``. Nothing changes when a GPU is present, so
multi-GPU runs (``tools/dist_train.sh``, Slurm) are MMEngine's own.
"""
import logging
from typing import Any

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import utils as dist_utils
from mmengine.logging import print_log

_original_init_dist_pytorch = dist_utils._init_dist_pytorch


def _init_dist_pytorch_cpu_aware(backend: str,
                                 init_backend: str = 'torch',
                                 **kwargs: Any) -> None:
    if torch.cuda.is_available() or init_backend != 'torch':
        return _original_init_dist_pytorch(backend, init_backend, **kwargs)
    if backend == 'nccl':
        print_log(
            'no CUDA device: using the gloo backend instead of nccl '
            '(set env_cfg.dist_cfg.backend=gloo to silence this)',
            logger='current',
            level=logging.WARNING)
        backend = 'gloo'
    torch_dist.init_process_group(backend=backend, **kwargs)


def patch_cpu_distributed() -> None:
    """Let ``init_dist('pytorch')`` run without CUDA. Idempotent."""
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware


def cpu_ddp_cfg(cfg: Config) -> Config:
    """For a distributed launch without CUDA: DDP with ``device_ids=None``
    (``find_unused_parameters`` still read from the config)."""
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return cfg
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper
    return cfg

"""KDIGADistill under DDP (CPU, gloo): gradients equal the 1-process ones."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from mmrazor.registry import MODELS

from ...conftest import data_samples, kdiga_model, toy_classifier


def _model():
    torch.manual_seed(0)
    model = MODELS.build(kdiga_model(toy_classifier(), toy_classifier()))
    model.init_weights()
    return model.train()


def _batch():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(8, 3, 8, 8, generator=gen)
    return x, data_samples(torch.arange(8) % 3)


def _student_grads(model):
    return {
        name: p.grad.clone()
        for name, p in model.architecture.named_parameters()
    }


def _total(losses):
    return sum(v for k, v in losses.items() if 'loss' in k)


def _worker(rank, world, port, out):
    import kdiga_mmrazor  # noqa: F401
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    model = MMDistributedDataParallel(
        module=_model(), device_ids=None, broadcast_buffers=False)
    x, samples = _batch()
    half = slice(rank * 4, rank * 4 + 4)
    losses = model(x[half], samples[half], mode='loss')
    _total(losses).backward()
    if rank == 0:
        torch.save(_student_grads(model.module), out)
    assert all(p.grad is None for p in model.module.teacher.parameters())
    dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_ddp_gradients_equal_single_process_full_batch(tmp_path):
    out = str(tmp_path / 'grads.pth')
    mp.start_processes(
        _worker, args=(2, _free_port(), out), nprocs=2, start_method='fork')
    ddp = torch.load(out, weights_only=True)
    model = _model()
    _total(model.loss(*_batch())).backward()
    single = _student_grads(model)
    assert single.keys() == ddp.keys()
    for name in single:
        torch.testing.assert_close(ddp[name], single[name], msg=name)

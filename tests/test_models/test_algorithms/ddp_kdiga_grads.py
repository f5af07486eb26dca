"""Run by ``test_kdiga_ddp.py`` under torchrun (2 CPU ranks, gloo).

Each rank takes its half of a fixed batch through DDP-wrapped KDIGADistill,
backpropagates, and rank 0 saves the student's (synchronised) gradients to
the path given as the only argument.
"""
import os.path as osp
import sys

import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from kdiga_ddp_case import batch, model, student_grads, total  # noqa: E402


def main(out: str) -> None:
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    ddp = MMDistributedDataParallel(
        module=model(), device_ids=None, broadcast_buffers=False)
    x, samples = batch()
    half = slice(rank * 4, rank * 4 + 4)
    total(ddp(x[half], samples[half], mode='loss')).backward()
    assert all(p.grad is None for p in ddp.module.teacher.parameters())
    if rank == 0:
        torch.save(student_grads(ddp.module), out)
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])

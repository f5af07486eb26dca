"""KDIGADistill under DDP (CPU, gloo): gradients equal the 1-process ones.

Mean losses over two equal halves average to the full-batch mean, so the
DDP-synchronised student gradient must equal the single-process one (the
toy student has no BatchNorm, whose batch statistics would differ).
"""
import os.path as osp
import subprocess
import sys

import torch

from ...conftest import free_port
from .kdiga_ddp_case import batch, model, student_grads, total

SCRIPT = osp.join(osp.dirname(osp.abspath(__file__)), 'ddp_kdiga_grads.py')


def test_ddp_gradients_equal_single_process_full_batch(tmp_path):
    out = str(tmp_path / 'grads.pth')
    run = subprocess.run(
        [
            sys.executable, '-m', 'torch.distributed.run',
            '--nproc_per_node=2', f'--master_port={free_port()}', SCRIPT,
            out
        ],
        capture_output=True,
        text=True,
        timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    ddp = torch.load(out, weights_only=True)
    single_model = model()
    total(single_model.loss(*batch())).backward()
    single = student_grads(single_model)
    assert single.keys() == ddp.keys()
    for name in single:
        torch.testing.assert_close(ddp[name], single[name], msg=name)

"""Every distillation config builds its model and takes a training step.

Config-only promise: a new pair is a new config. Each config is built as
the runner builds it (checkpoints included) and trained one step on a
two-image batch; KDIGA configs must produce a finite alignment loss and
move the student, KD configs must not take input gradients.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

from ..conftest import REPO

CONFIGS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', 'k*_cifar10.py')))


def test_every_kdiga_config_has_a_kd_twin():
    names = {osp.basename(c) for c in CONFIGS}
    for name in names:
        if name.startswith('kdiga_'):
            assert 'kd_' + name[len('kdiga_'):] in names, name


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_trains_one_step(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])
    optim = OptimWrapper(
        torch.optim.SGD(model.architecture.parameters(), lr=0.01))
    before = [p.detach().clone() for p in model.architecture.parameters()]
    log = model.train_step(batch, optim)
    assert torch.isfinite(log['loss'])
    kdiga = osp.basename(config).startswith('kdiga_')
    assert ('distill.loss_iga' in log) == kdiga
    moved = [
        not torch.equal(b, p)
        for b, p in zip(before, model.architecture.parameters())
    ]
    assert any(moved)

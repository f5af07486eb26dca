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
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

from kdiga_mmrazor.ops import sdpa_math_kernel
from kdiga_mmrazor.utils import as_pixel_classifier, pixels_from_batch

from ..conftest import REPO

# what every CIFAR config's header states: α = 0.5, τ = 1, γ = 0.1
ALPHA, TAU, GAMMA = 0.5, 1.0, 0.1
CONFIGS = sorted(  # KD and KDIGA (KDIGA + ARD is a robust distillation)
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'configs', 'k*_cifar10.py'))
    if not osp.basename(p).startswith('kdiga-ard_'))


def test_every_kdiga_config_has_a_kd_twin():
    names = {osp.basename(c) for c in CONFIGS}
    for name in names:
        if name.startswith('kdiga_'):
            assert 'kd_' + name[len('kdiga_'):] in names, name


def _hand_computed_losses(cfg, model, batch, seed):
    """The step's losses from the models' pixel-space classifiers, written
    out: (1 − α)·CE(z_s, y), α·τ²·KL(softmax(z_t/τ) ‖ softmax(z_s/τ))
    (batch mean) and γ·mean_i ‖∇ₓCE_s,i − ∇ₓCE_t,i‖₂ (summed CE)."""
    x, _ = pixels_from_batch(model, batch, training=True)
    y = torch.tensor([s.gt_label.item() for s in batch['data_samples']])
    teacher = as_pixel_classifier(model, 'teacher')
    student = as_pixel_classifier(model, 'student')
    torch.manual_seed(seed)  # the step's dropout draws
    x_t = x.clone().requires_grad_(True)
    z_t = teacher(x_t)
    (g_t, ) = torch.autograd.grad(
        F.cross_entropy(z_t, y, reduction='sum'), x_t)
    x_s = x.clone().requires_grad_(True)
    with sdpa_math_kernel():
        z_s = student(x_s)
        (g_s, ) = torch.autograd.grad(
            F.cross_entropy(z_s, y, reduction='sum'), x_s, create_graph=True)
    expected = {
        'student.loss': (1 - ALPHA) * F.cross_entropy(z_s, y),
        'distill.loss_kl': ALPHA * TAU**2 * F.kl_div(
            F.log_softmax(z_s / TAU, 1), F.softmax(z_t.detach() / TAU, 1),
            reduction='batchmean'),
    }
    if 'loss_iga' in cfg.model.distiller.distill_losses:
        expected['distill.loss_iga'] = GAMMA * (
            g_s - g_t).flatten(1).norm(dim=1).mean()
    return expected


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_trains_one_step(config):
    """Each config's step gives the losses its header states (α = 0.5 on
    the KL term, 1 − α on the student's CE, γ on the alignment), computed
    by hand from the same models, and SGD moves the student by −lr·∇."""
    cfg = Config.fromfile(osp.join(REPO, config))
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])
    expected = _hand_computed_losses(cfg, model, batch, seed=1)
    lr = 0.01
    optim = OptimWrapper(
        torch.optim.SGD(model.architecture.parameters(), lr=lr))
    params = list(model.architecture.parameters())
    grads = torch.autograd.grad(
        sum(expected.values()), params, allow_unused=True)
    before = [p.detach().clone() for p in params]
    torch.manual_seed(1)
    log = model.train_step(batch, optim)
    assert set(expected) <= set(log)
    assert ('distill.loss_iga' in log) == ('loss_iga' in
                                           cfg.model.distiller.distill_losses)
    for key, value in expected.items():
        torch.testing.assert_close(log[key], value.detach(), rtol=1e-4,
                                   atol=1e-6, msg=key)
    torch.testing.assert_close(
        log['loss'], sum(v for k, v in log.items() if 'loss' in k
                         and k != 'loss'))
    moved = 0
    for b, p, g in zip(before, params, grads):
        if g is None:
            continue
        torch.testing.assert_close(p.detach(), b - lr * g, rtol=1e-4,
                                   atol=1e-6)
        moved += bool(g.abs().sum() > 0)
    assert moved > 0


@pytest.mark.parametrize('path', sorted(
    osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '*.py'))
    + glob.glob(osp.join(REPO, 'configs', 'examples', '*.py'))
    + glob.glob(osp.join(REPO, 'configs', 'adversarial', '*.py'))))
def test_every_config_runs_the_divergence_guard_and_digest_hooks(path):
    from mmengine.registry import HOOKS

    from kdiga_mmrazor.engine import (
        CheckpointDigestHook,
        DivergenceGuardHook,
        load_config,
    )
    hooks = load_config(osp.join(REPO, path)).default_hooks
    assert isinstance(HOOKS.build(hooks['divergence_guard']),
                      DivergenceGuardHook)
    assert isinstance(HOOKS.build(hooks['checkpoint_digest']),
                      CheckpointDigestHook)

"""Toy data, models and runners for the robust-evaluation tests.

Images are 3×8×8, stored as uint8 (``round(255 · level)``), so the pixel
space of the loop is ``uint8 / 255``. Classes are intensity levels: class
``k`` images are constant at :data:`LEVELS` ``[k]``, and the toy models
classify the mean intensity ``u`` of an image:

* :class:`LevelBackbone`: logits ``−s (u − level_k)²``, smooth, correct on
  every clean image, broken once ``u`` moves by more than half the gap
  between levels (0.15);
* ``quantise=True``: ``u`` rounded to a 1/20 grid first, so every input
  gradient is exactly 0 (gradient masking by a step function);
* ``noise>0``: logits plus ``noise · N(0, 1)`` from the global RNG on
  every call (a randomised model);
* :class:`DeceptiveBackbone`: a two-class model whose loss, along the
  direction of its gradient, has a local maximum half-way to the edge of
  the 8/255 ball and breaks only at the edge: FGSM (one step of ε) breaks
  it, PGD's small steps stop at the local maximum.

The data preprocessor divides by 255 (mean 0, std 255), so ``val_step``
and the pixel-space classifier see the same ``[0, 1]`` images.
"""
import copy
import math

import numpy as np
import pytest
import torch
from mmengine.registry import DATASETS
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmpretrain.structures import DataSample
from torch import nn
from torch.utils.data import Dataset

import kdiga_mmrazor  # noqa: F401  (compat layer, attacks)
import kdiga_mmrazor.evaluation  # noqa: F401  (registers loops, metrics)
from kdiga_mmrazor.attacks import BaseAttack
from kdiga_mmrazor.evaluation.tables import metrics_to_rows
from kdiga_mmrazor.registry import ATTACKS

LEVELS = (0.2, 0.5, 0.8)
SHAPE = (3, 8, 8)


def level_pixels(level: float) -> int:
    return int(round(255 * level))


@DATASETS.register_module(force=True)
class RobustToyDataset(Dataset):
    """``n`` constant images; image ``i`` has level ``levels[i % L]`` and
    label ``i % L``, except the indices in ``mislabel``, labelled one class
    up. ``uniform`` overrides every image's level (label ``0``)."""

    def __init__(self, n=12, mislabel=(), uniform=None, levels=LEVELS):
        self.n, self.levels = n, tuple(levels)
        self.mislabel, self.uniform = set(mislabel), uniform
        self.metainfo = dict(classes=tuple(
            f'level{k}' for k in range(len(self.levels))))

    def level(self, i: int) -> float:
        if self.uniform is not None:
            return self.uniform
        return self.levels[i % len(self.levels)]

    def label(self, i: int) -> int:
        if self.uniform is not None:
            return 0
        k = i % len(self.levels)
        return (k + 1) % len(self.levels) if i in self.mislabel else k

    def get_gt_labels(self) -> np.ndarray:
        return np.array([self.label(i) for i in range(self.n)])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        image = torch.full(SHAPE, level_pixels(self.level(i)),
                           dtype=torch.uint8)
        return dict(
            inputs=image, data_samples=DataSample().set_gt_label(
                self.label(i)))


@PRETRAIN_MODELS.register_module(force=True)
class LevelBackbone(nn.Module):
    """Logits ``−scale (u − level_k)² + noise·N(0,1)``, ``u`` the mean
    intensity (rounded to a 1/20 grid with ``quantise``)."""

    def __init__(self, levels=LEVELS, scale=50.0, quantise=False, noise=0.0):
        super().__init__()
        self.register_buffer('levels', torch.tensor(levels))
        self.scale, self.quantise, self.noise = scale, quantise, noise
        self.dummy = nn.Parameter(torch.zeros(()))  # a parameter to freeze

    def forward(self, x):
        u = x.flatten(1).mean(1, keepdim=True)
        if self.quantise:
            u = torch.round(u * 20) / 20
        logits = -self.scale * (u - self.levels)**2 + self.dummy
        if self.noise:
            logits = logits + self.noise * torch.randn_like(logits)
        return (logits, )


@PRETRAIN_MODELS.register_module(force=True)
class DeceptiveBackbone(nn.Module):
    r"""Two classes, logits ``[0, h(t)]``, ``t = (u − u_0) / ε`` for the
    mean intensity ``u``, ``u_0 = 128/255``, ``ε = 8/255``:
    ``h(t) = −1 + ½ sin(πt) + 30 relu(t − 0.9)``. Images at ``u_0`` are
    class 0 (``h = −1``); ``h`` rises to a local maximum −½ at ``t = ½``,
    falls, and jumps above 0 only past ``t = 0.9``."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        t = (x.flatten(1).mean(1) - 128 / 255) / (8 / 255)
        h = -1 + 0.5 * torch.sin(math.pi * t) + 30 * torch.relu(t - 0.9)
        return (torch.stack([torch.zeros_like(h), h], 1) + self.dummy, )


@PRETRAIN_MODELS.register_module(force=True)
class AffineBackbone(nn.Module):
    """Two classes, logits ``[0, w·x + b]`` (``w`` seeded)."""

    def __init__(self, seed=0, bias=0.0, scale=0.05):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(scale * torch.randn(
            int(np.prod(SHAPE)), generator=gen))
        self.bias = nn.Parameter(torch.tensor(float(bias)))

    def forward(self, x):
        z = x.flatten(1) @ self.weight + self.bias
        return (torch.stack([torch.zeros_like(z), z], 1), )


@ATTACKS.register_module(force=True)
class ShiftAttack(BaseAttack):
    """Deterministic: every pixel up by ε (clipped to 1)."""

    def default_name(self) -> str:
        return f'shift_{self.norm}_{self.eps:g}'

    def perturb(self, model, x, y):
        return (x + self.eps).clamp(0, 1)


def classifier(backbone: dict) -> dict:
    return dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        data_preprocessor=dict(
            type='ClsDataPreprocessor', mean=[0, 0, 0],
            std=[255, 255, 255]),
        backbone=backbone,
        head=dict(type='ClsHead'))


def runner_cfg(work_dir,
               model=None,
               dataset=None,
               test_cfg=None,
               val_cfg=None,
               batch_size=4) -> dict:
    """A test-only (or val-only) Runner config on the toy data."""
    loader = dict(
        dataset=dataset or dict(type='RobustToyDataset'),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=batch_size,
        num_workers=0)
    cfg = dict(
        work_dir=str(work_dir),
        default_scope='mmpretrain',
        model=model or classifier(dict(type='LevelBackbone')),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='INFO')
    if test_cfg is not None:
        cfg.update(
            test_dataloader=copy.deepcopy(loader),
            test_evaluator=dict(type='Accuracy'),
            test_cfg=test_cfg)
    if val_cfg is not None:
        cfg.update(
            val_dataloader=copy.deepcopy(loader),
            val_evaluator=dict(type='Accuracy'),
            val_cfg=val_cfg)
    return cfg


@pytest.fixture
def make_runner(tmp_path):
    """``make_runner(**runner_cfg kwargs)``: a real MMEngine Runner."""
    from mmengine.runner import Runner

    # here, not at the top: ddp_robust_eval.py imports this file alone
    from ..conftest import LogRecords
    made = []

    def make(**kwargs):
        cfg = runner_cfg(tmp_path / f'run{len(made)}', **kwargs)
        cfg['experiment_name'] = f'robust_test_{id(cfg)}_{len(made)}'
        runner = Runner.from_cfg(cfg)
        LogRecords.attach_active()  # the runner's logger too
        made.append(runner)
        return runner

    yield make
    import logging
    logging.shutdown()


def robust_record(name, clean, accs):
    """A result record of PGD-20 L∞ accuracies ``[(eps_in_255, acc)]``."""
    metrics = {'robust/clean_acc': clean}
    attacks = []
    for eps, acc in accs:
        attack = f'pgd20_linf_{eps}'
        metrics[f'robust/{attack}/acc'] = acc
        attacks.append(
            dict(type='PGDAttack', name=attack, norm='linf',
                 eps=eps / 255))
    return dict(
        model=name,
        metrics=metrics,
        rows=metrics_to_rows(metrics, name, {'student': 'robust'}),
        attacks=attacks)

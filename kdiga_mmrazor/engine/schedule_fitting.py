"""Fit a config's learning-rate schedule into a shortened run.

``--cfg-options train_cfg.max_iters=N`` stops a run after N iterations but
keeps the config's ``param_scheduler``: a ViT's 5-epoch warm-up (1,955
iterations at batch 128) outlasts a 30-iteration run, which then trains at
a learning rate near ``start_factor · lr`` and leaves the student at its
initial weights. :func:`fitted_schedule_options` returns the
``--cfg-options`` that map every scheduler's iteration positions
proportionally from the config's ``T`` iterations onto ``N``:

.. math::

    t' = \\operatorname{round}(t \\cdot N / T),

for ``begin``, ``end`` and the schedulers' own positions (``T_max``,
``total_steps``, ``milestones``, ``step_size``), each made iteration-based
(``by_epoch=False``; an epoch is ``iters_per_epoch`` iterations), a
boundary at least two iterations after the one before it. Learning rates,
factors and ``eta_min`` are kept, so the shortened run passes through the
same learning rates in the same order. Model settings counted in
iterations (:data:`MODEL_ITERATION_KEYS`: IAD's warm-up, IGDM's ramp) are
scaled the same way, so IAD's self-term still switches on at the same
share of the run.
"""
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

# Schedulers whose shape is fixed by begin/end and these step positions.
# A scheduler outside this table changes per step (e.g. ExponentialLR's
# gamma) and is refused rather than compressed wrongly.
POSITION_KEYS = {
    'LinearLR': (),
    'ConstantLR': (),
    'PolyLR': (),
    'CosineAnnealingLR': ('T_max', ),
    'OneCycleLR': ('total_steps', ),
    'MultiStepLR': ('milestones', ),
    'StepLR': ('step_size', ),
}
SUFFIXES = ('LR', 'Momentum', 'ParamScheduler')
# Model settings counted in training iterations, scaled like the schedule
# when the config sets them (IAD's warm-up, IGDM's ramp).
MODEL_ITERATION_KEYS = ('iad_warmup_iters', 'igdm_ramp_iters')


def _kind(scheduler_type: str) -> Optional[str]:
    """The table key of ``LinearLR``, ``LinearMomentum``,
    ``LinearParamScheduler``… (None when unknown)."""
    for suffix in SUFFIXES:
        if scheduler_type.endswith(suffix):
            key = scheduler_type[:-len(suffix)] + 'LR'
            return key if key in POSITION_KEYS else None
    return None


def _total_iters(cfg: Config, iters_per_epoch: int) -> int:
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('max_iters'):
        return int(train_cfg['max_iters'])
    if train_cfg.get('max_epochs'):
        return int(train_cfg['max_epochs']) * iters_per_epoch
    raise ValueError('fitting the schedule needs train_cfg.max_iters or '
                     'train_cfg.max_epochs in the config')


def _fitted_boundaries(positions: Sequence[float], total: int,
                       iters: int) -> Dict[float, int]:
    """Each scheduler boundary (in iterations of the config's run) at
    its proportional iteration of the shortened one, two iterations at least
    after the boundary before it (MMEngine's ``LinearLR`` over a single
    iteration never leaves its start factor) and at most ``iters``."""
    fitted, last = {}, None
    for position in positions:
        at = iters if position >= total else int(
            round(position * iters / total))
        if last is not None:
            at = min(iters, max(at, last + 2))
        fitted[position] = last = at
    return fitted


def fitted_schedule_options(cfg: Config, iters: int) -> List[str]:
    """``--cfg-options`` that fit ``cfg.param_scheduler`` into ``iters``.

    Args:
        cfg: A training config with ``train_cfg.max_iters`` (or
            ``max_epochs``) and, for epoch-based schedulers, the top-level
            ``iters_per_epoch`` of its schedule.
        iters: The shortened run's ``train_cfg.max_iters``.

    Returns:
        One ``model.key=value`` or ``param_scheduler[.i].key=value``
        option per changed key (none when the config has neither).

    Raises:
        ValueError: ``iters`` is not positive, a scheduler is epoch-based
            and the config has no ``iters_per_epoch``, or a scheduler's
            type has no known shape.
    """
    if iters < 1:
        raise ValueError(f'fitting the schedule needs iters >= 1, got {iters}')
    options = []
    model = cfg.get('model') or {}
    for key in MODEL_ITERATION_KEYS:
        if model.get(key) is not None:
            total = _total_iters(cfg, int(cfg.get('iters_per_epoch') or 1))
            options.append(
                f'model.{key}={int(round(model[key] * iters / total))}')
    schedulers = cfg.get('param_scheduler')
    if not schedulers:
        return options
    as_list = isinstance(schedulers, (list, tuple))
    schedulers = list(schedulers) if as_list else [schedulers]
    iters_per_epoch = cfg.get('iters_per_epoch')
    if any(s.get('by_epoch', True) for s in schedulers) and (
            not iters_per_epoch):
        raise ValueError(
            'param_scheduler has an epoch-based scheduler but the config '
            'defines no iters_per_epoch: add `iters_per_epoch = N` (as '
            'configs/_base_/schedules/cifar10_bs128_iter.py does) or pass '
            'the shortened schedule with --cfg-options')
    total = _total_iters(cfg, int(iters_per_epoch or 1))

    def fitted(position: float, unit: int) -> int:
        return int(round(position * unit * iters / total))

    units, spans = [], []
    for index, scheduler in enumerate(schedulers):
        scheduler_type = str(scheduler.get('type'))
        if _kind(scheduler_type) is None:
            raise ValueError(
                f'param_scheduler{f".{index}" if as_list else ""}: '
                f'{scheduler_type} cannot be fitted into {iters} '
                'iterations by moving its positions; pass the shortened '
                'schedule with --cfg-options')
        unit = int(iters_per_epoch) if scheduler.get('by_epoch', True) else 1
        end = scheduler.get('end')
        units.append(unit)
        spans.append((scheduler.get('begin', 0) * unit,
                      total if end is None else min(end * unit, total)))
    boundaries = _fitted_boundaries(
        sorted({p for span in spans for p in span}), total, iters)

    for index, scheduler in enumerate(schedulers):
        kind, unit = _kind(str(scheduler['type'])), units[index]
        begin, end = (boundaries[p] for p in spans[index])
        values: Dict[str, object] = dict(
            by_epoch=False, convert_to_iter_based=False, begin=begin, end=end)
        for key in POSITION_KEYS[kind]:
            value = scheduler.get(key)
            if value is None:
                continue
            if isinstance(value, Sequence):
                values[key] = [max(1, fitted(v, unit)) for v in value]
            else:
                values[key] = max(1, fitted(value, unit))
        prefix = f'param_scheduler.{index}.' if as_list else 'param_scheduler.'
        options += [f'{prefix}{key}={value!r}'.replace(' ', '')
                    for key, value in values.items()]
    return options

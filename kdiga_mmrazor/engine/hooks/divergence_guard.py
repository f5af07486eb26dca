"""Stop a diverging run at the iteration it diverges.

Left alone, a run whose loss turns NaN logs NaN to its last iteration,
exits 0 and saves NaN checkpoints (and a NaN student scores chance-level
accuracy, as if it were merely bad). :class:`DivergenceGuardHook` checks
each training iteration, before any checkpoint of it is saved, and raises
:class:`DivergenceError` naming what went wrong.
"""
import logging
import math
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss, gradient norm or weight."""


def _finite(value) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value).all())
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number: nothing to check


def _describe(value) -> str:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return str(float(value))
    return str(value)


def _uses_amp(optim_wrapper) -> bool:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return any(
            isinstance(w, AmpOptimWrapper) for w in optim_wrapper.values())
    return isinstance(optim_wrapper, AmpOptimWrapper)


def finite_buffer_names(model: torch.nn.Module) -> List[str]:
    """The floating-point buffers that are finite now (running statistics;
    not masks that hold ``-inf`` by design)."""
    return [
        n for n, b in model.named_buffers()
        if b.is_floating_point() and bool(torch.isfinite(b).all())
    ]


def non_finite_weights(model: torch.nn.Module,
                       buffers: Sequence[str] = ()) -> List[str]:
    """Names of the trainable parameters, and of the named buffers, that
    hold a NaN or inf (one reduction per tensor, one device sync in all
    when none does)."""
    named_buffers = dict(model.named_buffers())
    tensors = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    tensors += [(n, named_buffers[n]) for n in buffers if n in named_buffers]
    if not tensors:
        return []
    sums = torch.stack([t.detach().float().sum() for _, t in tensors])
    if bool(torch.isfinite(sums).all()):
        return []
    return [n for n, t in tensors if not bool(torch.isfinite(t).all())]


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    r"""Stop training at the first non-finite loss, gradient norm or weight.

    After every training iteration (before ``CheckpointHook`` and
    ``LoggerHook`` see it), with :math:`L_k` the logged loss terms of
    iteration :math:`k`, :math:`\|g\|` the gradient norm the optimizer
    wrapper logged (``train/grad_norm``, when gradients are clipped) and
    :math:`\theta` the trainable weights after the step: training stops
    with :class:`DivergenceError` when any :math:`L_k`, :math:`\|g\|` or
    :math:`\theta` is NaN or inf. The error names the iteration, the
    non-finite terms (or weights) and the last checkpoint saved before it
    (all of whose weights were finite); no checkpoint of the failing
    iteration is written, and the run exits non-zero.

    Under AMP a non-finite loss or gradient is expected now and then: the
    loss scaler skips that step and lowers its scale, so the weights stay
    finite. Such iterations are logged, not errors, unless more than
    ``max_skipped_amp_steps`` follow one another (the scale can no longer
    recover); non-finite weights are an error under AMP too.

    Args:
        check_weights (bool): Check the trainable weights and running
            statistics after each step (one reduction per tensor). Defaults
            to True.
        max_skipped_amp_steps (int): Consecutive AMP steps with a
            non-finite loss or gradient norm before training stops.
            Defaults to 20.

    Example:
        >>> custom_hooks = [dict(type='DivergenceGuardHook')]
    """

    priority = 'VERY_HIGH'  # before CheckpointHook and LoggerHook

    def __init__(self,
                 check_weights: bool = True,
                 max_skipped_amp_steps: int = 20) -> None:
        if not (isinstance(max_skipped_amp_steps, int)
                and max_skipped_amp_steps >= 0):
            raise ValueError(
                'DivergenceGuardHook: max_skipped_amp_steps must be an '
                f'integer >= 0, got {max_skipped_amp_steps!r}')
        self.check_weights = check_weights
        self.max_skipped_amp_steps = max_skipped_amp_steps
        self._skipped = 0
        self._buffers: List[str] = []

    @staticmethod
    def _model(runner) -> torch.nn.Module:
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    def before_train(self, runner) -> None:
        """Note the buffers to watch (those finite at the start)."""
        self._buffers = finite_buffer_names(self._model(runner))

    @staticmethod
    def _non_finite_terms(runner, outputs: Optional[Dict]) -> List[str]:
        terms = [
            f'{k}={_describe(v)}' for k, v in (outputs or {}).items()
            if not _finite(v)
        ]
        hub = runner.message_hub
        if 'train/grad_norm' in hub.log_scalars:
            norm = hub.get_scalar('train/grad_norm').current()
            if not _finite(norm):
                terms.append(f'grad_norm={norm}')
        return terms

    def _fail(self, runner, what: str) -> None:
        last = runner.message_hub.get_info('last_ckpt')
        resume = (f'the last checkpoint, {last}, was saved before it (its '
                  'weights are finite)' if last else
                  'no checkpoint was saved before it')
        raise DivergenceError(
            f'training diverged at iteration {runner.iter + 1}: {what}; '
            f'stopped before anything of it was saved, and {resume}. Lower '
            'optim_wrapper.optimizer.lr, add optim_wrapper.clip_grad, or '
            'check the loss weights')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        """Check this iteration's losses, gradient norm and weights."""
        terms = self._non_finite_terms(runner, outputs)
        bad_weights = []
        if self.check_weights:
            bad_weights = non_finite_weights(self._model(runner),
                                             self._buffers)
        if bad_weights:
            self._fail(
                runner, f'{len(bad_weights)} weights are not finite after '
                f'the step (first {bad_weights[:3]})' +
                (f'; non-finite loss terms: {", ".join(terms)}'
                 if terms else ''))
        if not terms:
            self._skipped = 0
            return
        if _uses_amp(runner.optim_wrapper):
            self._skipped += 1
            if self._skipped <= self.max_skipped_amp_steps:
                print_log(
                    f'DivergenceGuardHook: iteration {runner.iter + 1}: '
                    f'{", ".join(terms)} under AMP; the loss scaler skipped '
                    f'the step ({self._skipped} in a row)',
                    logger='current',
                    level=logging.WARNING)
                return
            self._fail(
                runner, f'{self._skipped} AMP steps in a row had non-finite '
                f'values (now {", ".join(terms)})')
        self._fail(runner, f'non-finite loss terms: {", ".join(terms)}')

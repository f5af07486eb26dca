r"""The terms of the robust-distillation baselines, as functions of logits.

Notation: :math:`x` clean pixels, :math:`x'` the inner maximisation's
point, :math:`S`/:math:`T` the student's/teacher's logits,
:math:`p^\tau(z) = \mathrm{softmax}(z / \tau)` and

.. math::
    \mathrm{KL}_\tau(z_T \,\|\, z_S) = \tau^2 \sum_c p^\tau_c(z_T)
        \big(\log p^\tau_c(z_T) - \log p^\tau_c(z_S)\big)

per sample (:func:`kl_per_sample`), averaged over the batch by
:func:`reduce_kl`: ``'batchmean'`` (the KL of the papers, and the
reduction of ZFancy/IAD and of the IGDM code) or ``'mean'`` (that divided
by the number of classes :math:`C`: ``nn.KLDivLoss()``'s element mean in
goldblum/AdversariallyRobustDistillation ``main.py``, zibojia/RSLAD
``resnet18_rslad_cifar10.py`` and boyellow/AdaAD ``main.py`` on CIFAR-10).

* :func:`true_class_probability` and :func:`iad_reliability`: IAD's
  per-sample weight :math:`w_i = p_{y_i}(T(x'_i))^\beta` (ZFancy/IAD
  ``IAD-I.py``: ``softmax(teacher_net(pert_inputs))[y].pow(beta).item()``,
  so without gradient);
* :func:`weighted_kl`: :math:`\frac{1}{B}\sum_i (1 - w_i)\,\mathrm{KL}_1(
  S(x_i) \| S(x'_i))`, IAD's self-introspection term, its target
  :math:`S(x)` not detached (``F.softmax(basic_net(inputs))`` in
  ``IAD-I.py``);
* :func:`igdm_loss`: IGDM's :math:`\frac{1}{B}\sum_i \mathrm{KL}_1\big(
  T(x+\delta)_i - T(x-\delta)_i \,\|\, S(x+\delta)_i - S(x-\delta)_i
  \big)`, :math:`\delta = x' - x` (HongsinLee/saad ``igdm.py``,
  ``criterion_kl(F.log_softmax(student_plus - student_minus), F.softmax(
  teacher_plus - teacher_minus))`` with ``reduction='batchmean'``);
* :func:`igdm_ramp`: IGDM's linear warm-up of its weight (``epoch / 200``
  in ``igdm.py``), here per iteration;
* :func:`soft_label_objective` and :func:`discrepancy_objective`: the
  inner maximisations of RSLAD, :math:`\mathrm{KL}_1(T(x) \| S(x'))`
  with :math:`T(x)` fixed (zibojia/RSLAD ``rslad_loss.py``,
  ``rslad_inner_loss``), and of AdaAD, :math:`\mathrm{KL}_1(T(x') \|
  S(x'))` with the teacher queried at the moving point (boyellow/AdaAD
  ``AT_helper.py``, ``adaad_inner_loss``), both summed over the batch.
"""
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .kdiga_objective import at_least_fp32

KL_REDUCTIONS = ('batchmean', 'mean')


def kl_per_sample(target_logits: torch.Tensor,
                  logits: torch.Tensor,
                  tau: float = 1.0) -> torch.Tensor:
    r""":math:`\tau^2\,\mathrm{KL}(p^\tau(z_T) \| p^\tau(z_S))` of each
    sample, shape ``(B,)``, in (at least) fp32. The gradient reaches both
    sides; detach ``target_logits`` for a fixed target."""
    log_p = F.log_softmax(at_least_fp32(target_logits) / tau, dim=1)
    log_q = F.log_softmax(at_least_fp32(logits) / tau, dim=1)
    kl = F.kl_div(log_q, log_p, reduction='none', log_target=True)
    return tau**2 * kl.sum(dim=1)


def reduce_kl(per_sample: torch.Tensor, reduction: str,
              num_classes: int) -> torch.Tensor:
    """The batch mean of per-sample KLs (``'batchmean'``), or that over
    ``num_classes`` too (``'mean'``: the element mean)."""
    if reduction == 'batchmean':
        return per_sample.mean()
    if reduction == 'mean':
        return per_sample.mean() / num_classes
    raise ValueError(f'kl reduction must be one of {KL_REDUCTIONS}, got '
                     f'{reduction!r}')


def kl_loss(target_logits: torch.Tensor,
            logits: torch.Tensor,
            tau: float = 1.0,
            reduction: str = 'batchmean') -> torch.Tensor:
    r""":math:`\mathrm{KL}_\tau(z_T \| z_S)` of a batch, the target
    detached (a teacher's soft labels)."""
    per_sample = kl_per_sample(target_logits.detach(), logits, tau)
    return reduce_kl(per_sample, reduction, logits.shape[1])


def true_class_probability(logits: torch.Tensor,
                           target: torch.Tensor) -> torch.Tensor:
    r""":math:`p_{y_i}(z_i)` for class indices ``(B,)``, or
    :math:`\sum_c y_{ic}\, p_c(z_i)` for soft targets ``(B, C)``."""
    p = F.softmax(at_least_fp32(logits), dim=1)
    if target.dim() == 1:
        return p.gather(1, target[:, None]).squeeze(1)
    return (p * target.to(p.dtype)).sum(dim=1)


def iad_reliability(teacher_adv_logits: torch.Tensor, target: torch.Tensor,
                    beta: float) -> torch.Tensor:
    r"""IAD's :math:`w_i = p_{y_i}(T(x'_i))^\beta`, without gradient."""
    with torch.no_grad():
        return true_class_probability(teacher_adv_logits, target).pow(beta)


def weighted_kl(target_logits: torch.Tensor,
                logits: torch.Tensor,
                weights: torch.Tensor,
                reduction: str = 'batchmean') -> torch.Tensor:
    r""":math:`\frac{1}{B}\sum_i v_i\,\mathrm{KL}_1(z_{T,i} \| z_{S,i})`
    (``'batchmean'``; over :math:`C` too for ``'mean'``), the gradient
    through both sides (IAD's self term, :math:`v = 1 - w`)."""
    per_sample = kl_per_sample(target_logits, logits) * weights.detach()
    return reduce_kl(per_sample, reduction, logits.shape[1])


def igdm_loss(teacher_plus: torch.Tensor,
              teacher_minus: torch.Tensor,
              student_plus: torch.Tensor,
              student_minus: torch.Tensor,
              reduction: str = 'batchmean') -> torch.Tensor:
    r"""IGDM: :math:`\mathrm{KL}_1(T(x+\delta) - T(x-\delta) \,\|\,
    S(x+\delta) - S(x-\delta))` averaged over the batch; the teacher's
    side detached."""
    return kl_loss(teacher_plus - teacher_minus,
                   student_plus - student_minus, 1.0, reduction)


def igdm_ramp(iteration: int, ramp_iters: Optional[int]) -> float:
    r""":math:`\min(1, (t + 1) / R)` at iteration :math:`t` (0-based) of a
    ramp of :math:`R` iterations; 1 without one (``None`` or 0)."""
    if not ramp_iters:
        return 1.0
    return min(1.0, (iteration + 1) / ramp_iters)


def soft_label_objective(
        teacher_logits: torch.Tensor
) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""RSLAD's inner objective ``z' ↦`` :math:`\mathrm{KL}_1(T(x) \|
    z')` per sample, :math:`T(x)` fixed."""
    fixed = teacher_logits.detach()
    return lambda logits: kl_per_sample(fixed, logits)


def discrepancy_objective(stacked: torch.Tensor) -> torch.Tensor:
    r"""AdaAD's inner objective on :class:`StudentTeacherLogits`' output
    ``(2, B, C)``: :math:`\mathrm{KL}_1(T(x') \| S(x'))` per sample, the
    gradient through both models."""
    return kl_per_sample(stacked[1], stacked[0])


class StudentTeacherLogits(nn.Module):
    """``x ↦ stack([S(x), T(x)])``, shape ``(2, B, C)``: one model for
    :func:`~kdiga_mmrazor.attacks.pgd` whose objective needs both."""

    def __init__(self, student: nn.Module, teacher: nn.Module) -> None:
        super().__init__()
        self.student = student
        self.teacher = teacher

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.student(x), self.teacher(x)])

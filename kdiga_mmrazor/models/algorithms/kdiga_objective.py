"""The pieces of the KDIGA objective that ``KDIGADistill`` assembles.

For a pixel batch :math:`x`, targets :math:`y` and the logits :math:`z_m`
of each model :math:`m`:

* :func:`summed_cross_entropy`: :math:`\\sum_i \\mathrm{CE}(z_{m,i}, y_i)`,
  whose gradient with respect to the batch holds each sample's own input
  gradient :math:`g_{m,i}`;
* :func:`classifier_task_loss`: the student's own task loss on the logits
  already computed, scaled to :math:`1 - \alpha` when α is given;
* :func:`rescale_task_loss`: a head's losses at another weight;
* :func:`check_loss_weights`: every loss weight finite, checked at build;
* :func:`apply_alpha`: :math:`\alpha` on every KL term,
  :math:`\alpha \tau^2 \\mathrm{KL}(\\mathrm{softmax}(z_t/\tau) \\|
  \\mathrm{softmax}(z_s/\tau))`.
"""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import nn


def gather_targets(data_samples: Sequence[BaseDataElement]) -> torch.Tensor:
    """Class indices (B,), or soft targets (B, C) after batch augments."""
    if 'gt_score' in data_samples[0]:
        return torch.stack([s.gt_score for s in data_samples])
    return torch.cat([s.gt_label for s in data_samples])


def at_least_fp32(tensor: torch.Tensor) -> torch.Tensor:
    """fp16/bf16 → fp32; fp32 and fp64 unchanged."""
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32))


def summed_cross_entropy(logits: torch.Tensor,
                         target: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_i \mathrm{CE}(z_i, y_i)` in (at least) fp32: its
    gradient with respect to the batch holds each sample's own input
    gradient."""
    return F.cross_entropy(at_least_fp32(logits), target, reduction='sum')


def classifier_task_loss(model: BaseModel,
                         logits: torch.Tensor,
                         data_samples: List,
                         weight: Optional[float] = None,
                         who: str = 'KDIGADistill'
                         ) -> Dict[str, torch.Tensor]:
    """The classifier's own loss on already computed logits (its head's
    ``_get_loss`` for ``ImageClassifier``, its own for timm/HF wrappers).

    Args:
        weight (float, optional): Scale the loss to this weight, whatever
            the head's own ``loss_weight`` (which is divided out). Defaults
            to None (the head's weight).
        who (str): The algorithm's name, for messages. Defaults to
            ``'KDIGADistill'``.
    """
    head = getattr(model, 'head', None)
    owner = head if hasattr(head, '_get_loss') else model
    if not hasattr(owner, '_get_loss'):
        raise TypeError(
            f'{who}: cannot compute the task loss of '
            f'{type(model).__name__} from logits (no head._get_loss or '
            '_get_loss); set model.calculate_student_loss=False and add a '
            'CE distill loss instead')
    losses = owner._get_loss(logits, data_samples)
    if weight is None:
        return losses
    return rescale_task_loss(losses, model, weight, who)


def rescale_task_loss(losses: Dict[str, torch.Tensor], model: nn.Module,
                      weight: float,
                      who: str = 'KDIGADistill') -> Dict[str, torch.Tensor]:
    r"""``losses`` of ``model``'s head, computed at the head's own
    ``loss_weight`` :math:`w_h`, rescaled to ``weight``:
    :math:`L \cdot \mathrm{weight} / w_h`."""
    head = getattr(model, 'head', None)
    owner = head if hasattr(head, '_get_loss') else model
    own = float(getattr(getattr(owner, 'loss_module', None), 'loss_weight',
                        1.0))
    if own == 0:
        raise ValueError(
            f'{who}: the student head\'s loss_weight is 0, so '
            'model.alpha cannot rescale its task loss; give the head a '
            'non-zero loss_weight (alpha sets the final weight)')
    # only the terms MMEngine sums into the loss (not e.g. 'accuracy')
    return {k: v * (weight / own) if 'loss' in k else v
            for k, v in losses.items()}


def check_loss_weights(distiller: nn.Module, student: nn.Module,
                       who: str) -> None:
    """Every loss weight of the objective is a finite number.

    ``nan`` passes a ``< 0`` check and NaNs the student after one step;
    this refuses it (and ``inf``) at build, naming the key.

    Raises:
        ValueError: a distill loss's or the student head's ``loss_weight``
            is not finite.
    """
    weights = [(f'model.distiller.distill_losses.{name}.loss_weight',
                getattr(loss, 'loss_weight', None))
               for name, loss in getattr(distiller, 'distill_losses',
                                         {}).items()]
    head_loss = getattr(getattr(student, 'head', None), 'loss_module', None)
    weights.append(('model.architecture.head.loss.loss_weight',
                    getattr(head_loss, 'loss_weight', None)))
    for key, weight in weights:
        if weight is None:
            continue
        if not (isinstance(weight, (int, float, torch.Tensor))
                and math.isfinite(float(weight))):
            raise ValueError(f'{who}: {key}={weight!r} is not a finite '
                             'number; set it to a finite weight')


def apply_alpha(distiller: dict, alpha: float,
                who: str = 'KDIGADistill') -> dict:
    """Give every ``KLDivergence`` distill loss the weight ``alpha`` (the
    ones that state none), or refuse one that states another.

    Raises:
        ValueError: ``alpha`` not in [0, 1], or a KL loss with another
            ``loss_weight``.
    """
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool)
            and 0 <= alpha <= 1):
        raise ValueError(f'{who}: model.alpha must be a number in '
                         f'[0, 1], got {alpha!r}')
    distiller = dict(distiller)
    losses = dict(distiller.get('distill_losses', {}))
    for name, cfg in losses.items():
        if not (isinstance(cfg, dict) and cfg.get('type') in (
                'KLDivergence', 'mmrazor.KLDivergence')):
            continue
        weight = cfg.get('loss_weight')
        if weight is not None and float(weight) != float(alpha):
            raise ValueError(
                f'{who}: model.distiller.distill_losses.{name}.'
                f'loss_weight={weight} but model.alpha={alpha}; remove the '
                'loss_weight (alpha sets it) or make them equal')
        losses[name] = dict(cfg, loss_weight=float(alpha))
    distiller['distill_losses'] = losses
    return distiller

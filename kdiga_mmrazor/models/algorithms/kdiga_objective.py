"""The pieces of the KDIGA objective that ``KDIGADistill`` assembles.

For a pixel batch :math:`x`, targets :math:`y` and the logits :math:`z_m`
of each model :math:`m`:

* :func:`summed_cross_entropy`: :math:`\\sum_i \\mathrm{CE}(z_{m,i}, y_i)`,
  whose gradient with respect to the batch holds each sample's own input
  gradient :math:`g_{m,i}`;
* :func:`classifier_task_loss`: the student's own task loss on the logits
  already computed, scaled to :math:`1 - \alpha` when α is given;
* :func:`apply_alpha`: :math:`\alpha` on every KL term,
  :math:`\alpha \tau^2 \\mathrm{KL}(\\mathrm{softmax}(z_t/\tau) \\|
  \\mathrm{softmax}(z_s/\tau))`.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement


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
                         weight: Optional[float] = None
                         ) -> Dict[str, torch.Tensor]:
    """The classifier's own loss on already computed logits (its head's
    ``_get_loss`` for ``ImageClassifier``, its own for timm/HF wrappers).

    Args:
        weight (float, optional): Scale the loss to this weight, whatever
            the head's own ``loss_weight`` (which is divided out). Defaults
            to None (the head's weight).
    """
    head = getattr(model, 'head', None)
    owner = head if hasattr(head, '_get_loss') else model
    if not hasattr(owner, '_get_loss'):
        raise TypeError(
            f'KDIGADistill: cannot compute the task loss of '
            f'{type(model).__name__} from logits (no head._get_loss or '
            '_get_loss); set model.calculate_student_loss=False and add a '
            'CE distill loss instead')
    losses = owner._get_loss(logits, data_samples)
    if weight is None:
        return losses
    own = float(getattr(getattr(owner, 'loss_module', None), 'loss_weight',
                        1.0))
    if own == 0:
        raise ValueError(
            'KDIGADistill: the student head\'s loss_weight is 0, so '
            'model.alpha cannot rescale its task loss; give the head a '
            'non-zero loss_weight (alpha sets the final weight)')
    return {k: v * (weight / own) for k, v in losses.items()}


def apply_alpha(distiller: dict, alpha: float) -> dict:
    """Give every ``KLDivergence`` distill loss the weight ``alpha`` (the
    ones that state none), or refuse one that states another.

    Raises:
        ValueError: ``alpha`` not in [0, 1], or a KL loss with another
            ``loss_weight``.
    """
    if not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        raise ValueError(f'KDIGADistill: model.alpha must be a number in '
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
                f'KDIGADistill: model.distiller.distill_losses.{name}.'
                f'loss_weight={weight} but model.alpha={alpha}; remove the '
                'loss_weight (alpha sets it) or make them equal')
        losses[name] = dict(cfg, loss_weight=float(alpha))
    distiller['distill_losses'] = losses
    return distiller

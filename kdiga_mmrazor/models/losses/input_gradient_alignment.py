r"""Input gradient alignment (IGA), the extra term of KDIGA.

From `How and When Adversarial Robustness Transfers in Knowledge
Distillation? <https://arxiv.org/abs/2110.12072>`_ (Shao, Yi, Chen, Hsieh
2021). Code consulted: RulinShao/AdversariallyRobustDistillation
(``main.py``, ``--distill_method kdiga``), whose term is
``(gamma / B) * (s_grad - t_grad).norm(2)`` with ``s_grad``/``t_grad`` the
input gradients of the *batch-mean* cross-entropy. We differ in the default
reduction (per-sample, batch-size invariant); ``mode='paper'`` reproduces
theirs exactly.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import nn

DISTANCES = ('l2', 'sq_l2', 'l1', 'cosine')
MODES = ('per_sample', 'paper')


def per_sample_distance(grad_S: torch.Tensor, grad_T: torch.Tensor,
                        distance: str) -> torch.Tensor:
    """``d(g^S_i, g^T_i)`` for each sample ``i`` (flattened), shape (B,)."""
    diff = (grad_S - grad_T).flatten(1)
    if distance == 'l2':
        return diff.norm(p=2, dim=1)
    if distance == 'sq_l2':
        return diff.pow(2).sum(dim=1)
    if distance == 'l1':
        return diff.abs().sum(dim=1)
    return 1 - F.cosine_similarity(
        grad_S.flatten(1), grad_T.flatten(1), dim=1, eps=1e-12)


@MODELS.register_module()
class InputGradientAlignmentLoss(nn.Module):
    r"""Distance between student and teacher input gradients (KDIGA).

    For images :math:`x_i \in [0, 1]^{C \times H \times W}` (pixel space,
    before either model normalises), labels :math:`y_i` and
    :math:`g^m_i = \nabla_{x_i} \mathrm{CE}(f_m(x_i), y_i)`, the
    per-sample input gradient of model :math:`m \in \{S, T\}`:

    .. math::
        \mathcal{L}_{\text{per\_sample}} =
            \frac{w}{B} \sum_{i=1}^{B} d(g^S_i, g^T_i)

    with :math:`d` one of
    :math:`\|g^S - g^T\|_2` (``'l2'``, the paper's),
    :math:`\|g^S - g^T\|_2^2` (``'sq_l2'``),
    :math:`\|g^S - g^T\|_1` (``'l1'``) or
    :math:`1 - \cos(g^S, g^T)` (``'cosine'``).

    ``mode='paper'`` is the authors' scaling. Their gradients are those of
    the batch-mean CE, :math:`G^m = g^m / B` (the whole
    :math:`B \times C \times H \times W` tensor), and their term is

    .. math::
        \mathcal{L}_{\text{paper}} = \frac{w}{B}\, d(G^S, G^T)
            = \frac{w}{B^2} \|g^S - g^T\|_F \quad (d = \text{l2})

    so their γ ∈ {1, 10, 100} mean the same here with ``loss_weight=γ``.
    It scales as :math:`1/B^{1.5}` of the per-sample RMS: at B = 128 their
    γ = 100 is about 0.07 in per-sample units.

    Computed in fp32 (fp16/bf16 inputs are cast), also under AMP.

    Args:
        distance (str): ``'l2'``, ``'sq_l2'``, ``'l1'`` or ``'cosine'``.
            Defaults to ``'l2'``.
        mode (str): ``'per_sample'`` or ``'paper'``.
            Defaults to ``'per_sample'``.
        loss_weight (float): :math:`w`, γ in the paper. Defaults to 1.0.

    Note:
        ``grad_T`` is a constant; ``grad_S`` must come from
        ``torch.autograd.grad(..., create_graph=True)`` or nothing trains.
        Give *per-sample* gradients (of the summed CE) in both modes:
        ``KDIGADistill`` does.

    Example:
        >>> distill_losses=dict(loss_iga=dict(
        ...     type='InputGradientAlignmentLoss', loss_weight=0.1))
        >>> loss_forward_mappings=dict(loss_iga=dict(
        ...     grad_S=dict(from_student=True, recorder='input_grad'),
        ...     grad_T=dict(from_student=False, recorder='input_grad')))
    """

    def __init__(self,
                 distance: str = 'l2',
                 mode: str = 'per_sample',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if distance not in DISTANCES:
            raise ValueError(
                f'InputGradientAlignmentLoss: distance must be one of '
                f'{DISTANCES}, got {distance!r}')
        if mode not in MODES:
            raise ValueError(f'InputGradientAlignmentLoss: mode must be one '
                             f'of {MODES}, got {mode!r}')
        if not (isinstance(loss_weight, (int, float))
                and not isinstance(loss_weight, bool)
                and math.isfinite(loss_weight) and loss_weight >= 0):
            raise ValueError('InputGradientAlignmentLoss: loss_weight (γ) '
                             'must be a finite number >= 0, got '
                             f'{loss_weight!r}')
        self.distance = distance
        self.mode = mode
        self.loss_weight = float(loss_weight)

    @staticmethod
    def _check(grad_S: torch.Tensor,
               grad_T: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if grad_S.shape != grad_T.shape:
            raise ValueError(
                'InputGradientAlignmentLoss: grad_S and grad_T must have the '
                f'same shape (the same pixel-space images), got '
                f'{tuple(grad_S.shape)} and {tuple(grad_T.shape)}')
        dtype = torch.promote_types(grad_S.dtype, torch.float32)
        return grad_S.to(dtype), grad_T.detach().to(dtype)

    def forward(self, grad_S: torch.Tensor,
                grad_T: torch.Tensor) -> torch.Tensor:
        """Args:
            grad_S (Tensor): Student per-sample input gradients, (B, ...).
            grad_T (Tensor): Teacher per-sample input gradients, (B, ...).
        """
        grad_S, grad_T = self._check(grad_S, grad_T)
        batch = grad_S.size(0)
        if self.mode == 'paper':
            whole = per_sample_distance(
                grad_S.reshape(1, -1) / batch,
                grad_T.reshape(1, -1) / batch, self.distance)
            return self.loss_weight * whole[0] / batch
        distances = per_sample_distance(grad_S, grad_T, self.distance)
        return self.loss_weight * distances.mean()

r"""GELU with a cheap, exact double backward.

:math:`\mathrm{gelu}(x) = x\,\Phi(x)`, so
:math:`\mathrm{gelu}'(x) = \Phi(x) + x\,\varphi(x)` and
:math:`\mathrm{gelu}''(x) = \varphi(x)\,(2 - x^2)` (:math:`\Phi, \varphi` the
standard normal CDF and density). The backward is
:math:`g_x = \delta\,\mathrm{gelu}'(x)`; given the gradient :math:`\gamma`
of a loss with respect to :math:`g_x`:

.. math::
    \partial/\partial\delta = \gamma\,\mathrm{gelu}'(x),\qquad
    \partial/\partial x = \gamma\,\delta\,\varphi(x)\,(2 - x^2).

PyTorch differentiates its GELU backward formula op by op instead (a ViT
MLP's second backward spent about 6% of a KDIGA step there on a CPU).
"""
import math
from typing import Any, Optional, Tuple

import torch

from .engine import grad_needed, remember_tensor_inputs

Tensor = torch.Tensor
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class _GeluBackward(torch.autograd.Function):
    """``(δ, x) ↦ δ·gelu'(x)``, differentiable in closed form."""

    @staticmethod
    def forward(ctx: Any, grad_out: Tensor, x: Tensor) -> Tensor:
        remember_tensor_inputs(ctx, grad_out, x)
        ctx.save_for_backward(grad_out, x)
        return torch.ops.aten.gelu_backward(grad_out, x)

    @staticmethod
    def backward(ctx: Any,
                 gg: Tensor) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        grad_out, x = ctx.saved_tensors
        grad_delta = grad_x = None
        if grad_needed(ctx, 0):
            grad_delta = _GeluBackward.apply(gg, x)
        if grad_needed(ctx, 1):
            x2 = x * x
            if torch.is_grad_enabled():  # a third derivative will follow
                grad_x = (torch.exp(x2 * -0.5) * _INV_SQRT_2PI * (2.0 - x2) *
                          grad_out * gg)
            else:  # in place: two full-size temporaries instead of six
                grad_x = torch.mul(x2, -0.5).exp_()
                grad_x.mul_(x2.neg_().add_(2.0)).mul_(grad_out).mul_(gg)
                grad_x.mul_(_INV_SQRT_2PI)
        return grad_delta, grad_x


class _Gelu(torch.autograd.Function):
    """Exact (erf) GELU whose backward is ``_GeluBackward``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return torch.ops.aten.gelu(x)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Tensor:
        (x, ) = ctx.saved_tensors
        return _GeluBackward.apply(grad_out, x)


def gelu(x: Tensor) -> Tensor:
    """``F.gelu(x)`` (``approximate='none'``) with the cheap double
    backward."""
    return _Gelu.apply(x)

r"""Training-mode BatchNorm with a cheap, exact double backward.

Input gradient alignment differentiates the student's input gradient
:math:`g_s = \nabla_x \mathrm{CE}` with respect to its weights, so every
training-mode BatchNorm is differentiated twice. PyTorch's double backward
of ``native_batch_norm_backward`` is a chain of some thirty full-size
elementwise ops; on a CPU it was a third of a ResNet-20 KDIGA step. Here the
same derivatives are reduced to closed form: three per-channel reductions
and two fused passes.

Per channel, over its :math:`N` values (batch and space), with
:math:`\mu, \sigma^2` the batch mean and biased variance,
:math:`r = (\sigma^2 + \epsilon)^{-1/2}`, :math:`x_c = x - \mu`,
:math:`\hat x = x_c r`, :math:`y = w \hat x + b`, the backward is

.. math::
    g_x = w r\,(\delta - a - r^2 P\, x_c),\quad
    g_w = \textstyle\sum \delta \hat x,\quad g_b = \sum \delta,\qquad
    a = \tfrac1N \textstyle\sum \delta,\ P = \tfrac1N \sum \delta x_c,

for the incoming gradient :math:`\delta`. Given the gradients
:math:`\gamma_x, \gamma_w, \gamma_b` of a loss with respect to
:math:`g_x, g_w, g_b`, let :math:`Q = \sum \gamma_x x_c`,
:math:`A = \sum \gamma_x \delta - a \sum \gamma_x`,
:math:`k = \gamma_w r - w r^3 Q / N`. Then

.. math::
    \partial/\partial\delta &= w r\,\gamma_x + k\, x_c
        + \gamma_b - w r \bar\gamma_x \\
    \partial/\partial x &= \big(\tfrac{w r^3}{N}(3 r^2 P Q - A)
        - \gamma_w r^3 P\big) x_c + k\,(\delta - a)
        - w r^3 P\,(\gamma_x - \bar\gamma_x) \\
    \partial/\partial w &= r A - r^3 P Q

(:math:`\bar\gamma_x` the channel mean). Tests check all of it against
PyTorch's own double backward in float64. Like PyTorch's, it stops at
second order (the batch statistics are saved constants here).
"""
from typing import Any, Optional, Tuple

import torch

from .engine import refuse_third_order

Tensor = torch.Tensor


def _channel_shape(x: Tensor) -> Tuple[int, ...]:
    return (1, x.shape[1]) + (1, ) * (x.dim() - 2)


def _channel_dims(x: Tensor) -> Tuple[int, ...]:
    return (0, ) + tuple(range(2, x.dim()))


def _channel_sum(x: Tensor) -> Tensor:
    return x.sum(_channel_dims(x))


class _BatchNormBackward(torch.autograd.Function):
    """``(δ, x, w) ↦ (g_x, g_w, g_b)`` of training-mode BatchNorm, with the
    closed-form derivatives of the module docstring as its backward."""

    @staticmethod
    def forward(ctx: Any, grad_out: Tensor, x: Tensor, weight: Tensor,
                mean: Tensor, invstd: Tensor, eps: float,
                weight_given: bool) -> Tuple[Tensor, Tensor, Tensor]:
        grad_x, grad_w, grad_b = torch.ops.aten.native_batch_norm_backward(
            grad_out, x, weight, None, None, mean, invstd, True, eps,
            [True, True, True])
        ctx.set_materialize_grads(False)  # unused outputs: None, not zeros
        ctx.save_for_backward(grad_out, x, weight, mean, invstd, grad_w,
                              grad_b)
        ctx.weight_given = weight_given
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward(ctx: Any, gg_x: Optional[Tensor], gg_w: Optional[Tensor],
                 gg_b: Optional[Tensor]) -> Tuple[Optional[Tensor], ...]:
        refuse_third_order('BatchNorm double backward')
        grad_out, x, weight, mean, invstd, grad_w, grad_b = ctx.saved_tensors
        shape = _channel_shape(x)
        n = x.numel() // x.shape[1]
        r = invstd
        a = grad_b / n  # mean of δ
        p = grad_w / (r * n)  # mean of δ·x_c  (g_w = r Σ δ x_c)
        wr = weight * r
        r3 = r * r * r
        xc = x - mean.view(shape)

        grad_delta = None
        grad_x = None
        grad_weight = None
        k = torch.zeros_like(r)
        coef_xc = torch.zeros_like(r)
        offset_delta = torch.zeros_like(r)
        if gg_w is not None:
            k = k + gg_w * r
            coef_xc = coef_xc - gg_w * r3 * p
        if gg_b is not None:
            offset_delta = offset_delta + gg_b
        if gg_x is not None:
            sum_gg = _channel_sum(gg_x)
            q = _channel_sum(gg_x * xc)
            big_a = _channel_sum(gg_x * grad_out) - a * sum_gg
            k = k - wr * r * r * q / n
            coef_xc = coef_xc + wr * r * r / n * (3 * r * r * p * q - big_a)
            offset_delta = offset_delta - wr * sum_gg / n
            if ctx.needs_input_grad[2] and ctx.weight_given:
                grad_weight = r * big_a - r3 * p * q
        if ctx.needs_input_grad[0]:
            grad_delta = torch.addcmul(offset_delta.view(shape), xc,
                                       k.view(shape))
            if gg_x is not None:
                grad_delta.addcmul_(gg_x, wr.view(shape))
        if ctx.needs_input_grad[1]:
            grad_x = torch.addcmul((-k * a).view(shape), xc,
                                   coef_xc.view(shape))
            grad_x.addcmul_(grad_out, k.view(shape))
            if gg_x is not None:
                c = wr * r * r * p
                grad_x.addcmul_(gg_x, -c.view(shape))
                grad_x.add_((c * sum_gg / n).view(shape))
        return grad_delta, grad_x, grad_weight, None, None, None, None


class _BatchNormTrain(torch.autograd.Function):
    """Training-mode BatchNorm (running statistics updated as usual) whose
    backward is ``_BatchNormBackward``, so it can be differentiated again.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Optional[Tensor],
                bias: Optional[Tensor], running_mean: Optional[Tensor],
                running_var: Optional[Tensor], momentum: float,
                eps: float) -> Tensor:
        out, mean, invstd = torch.ops.aten.native_batch_norm(
            x, weight, bias, running_mean, running_var, True, momentum, eps)
        ctx.weight_given = weight is not None
        if weight is None:
            weight = torch.ones_like(mean)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, weight, mean, invstd = ctx.saved_tensors
        grad_x, grad_w, grad_b = _BatchNormBackward.apply(
            grad_out, x, weight, mean, invstd, ctx.eps, ctx.weight_given)
        return (grad_x, grad_w if ctx.needs_input_grad[1] else None,
                grad_b if ctx.needs_input_grad[2] else None, None, None, None,
                None)


def batch_norm_train(x: Tensor,
                     running_mean: Optional[Tensor],
                     running_var: Optional[Tensor],
                     weight: Optional[Tensor] = None,
                     bias: Optional[Tensor] = None,
                     momentum: float = 0.1,
                     eps: float = 1e-5) -> Tensor:
    """``F.batch_norm(..., training=True)`` with the cheap double backward.
    """
    return _BatchNormTrain.apply(x, weight, bias, running_mean, running_var,
                                 momentum, eps)

r"""Convolution with a cheap, exact double backward.

The backward of :math:`y = W \ast x + b` for the incoming gradient
:math:`\delta` is :math:`g_x = W^\top \ast \delta` (transposed convolution),
:math:`g_W = \delta \star x` (the weight gradient), :math:`g_b = \sum \delta`:
each bilinear in :math:`\delta` and one of :math:`x, W`. Given the
gradients :math:`\gamma_x, \gamma_W, \gamma_b` of a loss with respect to
:math:`g_x, g_W, g_b`:

.. math::
    \partial/\partial\delta = W \ast \gamma_x + \gamma_W \ast x + \gamma_b,
    \quad
    \partial/\partial x = \gamma_W^\top \ast \delta,
    \quad
    \partial/\partial W = \delta \star \gamma_x,

i.e. one convolution and one weight gradient per layer when only
:math:`g_x` was taken (input gradient alignment). PyTorch's generic
double backward computes the weight gradient as a convolution over
transposed batch and channel axes, with copies; on a CPU it cost about
twice this for a ResNet-20 KDIGA step.
"""
import functools
import numbers
import operator
from typing import Any, List, Optional, Sequence, Tuple, Union

import torch

from .engine import grad_needed, remember_tensor_inputs

Tensor = torch.Tensor
IntOrSeq = Union[int, Sequence[int]]


def _as_list(value: IntOrSeq, dims: int) -> List[int]:
    if isinstance(value, numbers.Integral):
        return [int(value)] * dims
    return [int(v) for v in value]


class _ConvBackward(torch.autograd.Function):
    """``(δ, x, W) ↦ (g_x, g_W, g_b)``, differentiable in closed form."""

    @staticmethod
    def forward(ctx: Any, grad_out: Tensor, x: Tensor, weight: Tensor,
                has_bias: bool, stride: List[int], padding: List[int],
                dilation: List[int], groups: int,
                output_mask: List[bool]) -> Tuple[Optional[Tensor], ...]:
        remember_tensor_inputs(ctx, grad_out, x, weight)
        ctx.set_materialize_grads(False)  # unused outputs: None, not zeros
        ctx.save_for_backward(grad_out, x, weight)
        ctx.conv = (stride, padding, dilation, groups)
        bias_sizes = [weight.shape[0]] if has_bias else None
        return torch.ops.aten.convolution_backward(
            grad_out, x, weight, bias_sizes, stride, padding, dilation, False,
            [0] * len(stride), groups, output_mask)

    @staticmethod
    def backward(ctx: Any, gg_x: Optional[Tensor], gg_w: Optional[Tensor],
                 gg_b: Optional[Tensor]) -> Tuple[Optional[Tensor], ...]:
        grad_out, x, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conv
        no_pad = [0] * len(stride)

        def conv(inp: Tensor, w: Tensor) -> Tensor:
            return torch.ops.aten.convolution(inp, w, None, stride, padding,
                                              dilation, False, no_pad,
                                              groups)

        grad_delta = grad_x = grad_w = None
        if grad_needed(ctx, 0):
            terms = []
            if gg_x is not None:
                terms.append(conv(gg_x, weight))
            if gg_w is not None:
                terms.append(conv(x, gg_w))
            if gg_b is not None:
                shape = (1, -1) + (1, ) * (grad_out.dim() - 2)
                terms.append(gg_b.view(shape).expand_as(grad_out))
            if terms:
                grad_delta = functools.reduce(operator.add, terms)
        if gg_w is not None and grad_needed(ctx, 1):
            grad_x = torch.ops.aten.convolution_backward(
                grad_out, x, gg_w, None, stride, padding, dilation, False,
                no_pad, groups, [True, False, False])[0]
        if gg_x is not None and grad_needed(ctx, 2):
            grad_w = torch.ops.aten.convolution_backward(
                grad_out, gg_x, weight, None, stride, padding, dilation,
                False, no_pad, groups, [False, True, False])[1]
        return grad_delta, grad_x, grad_w, None, None, None, None, None, None


class _Conv(torch.autograd.Function):
    """``aten.convolution`` whose backward is ``_ConvBackward``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Optional[Tensor],
                stride: List[int], padding: List[int], dilation: List[int],
                groups: int) -> Tensor:
        remember_tensor_inputs(ctx, x, weight, bias)
        ctx.save_for_backward(x, weight)
        ctx.conv = (bias is not None, stride, padding, dilation, groups)
        return torch.ops.aten.convolution(x, weight, bias, stride, padding,
                                          dilation, False,
                                          [0] * len(stride), groups)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, weight = ctx.saved_tensors
        has_bias, stride, padding, dilation, groups = ctx.conv
        mask = [grad_needed(ctx, 0), grad_needed(ctx, 1),
                has_bias and grad_needed(ctx, 2)]
        grad_x, grad_w, grad_b = _ConvBackward.apply(grad_out, x, weight,
                                                     has_bias, stride,
                                                     padding, dilation,
                                                     groups, mask)
        return grad_x, grad_w, grad_b, None, None, None, None


def conv_nd(x: Tensor,
            weight: Tensor,
            bias: Optional[Tensor] = None,
            stride: IntOrSeq = 1,
            padding: IntOrSeq = 0,
            dilation: IntOrSeq = 1,
            groups: int = 1) -> Tensor:
    """``F.conv{1,2,3}d`` (batched input, numeric padding) with the cheap
    double backward."""
    dims = x.dim() - 2
    return _Conv.apply(x, weight, bias, _as_list(stride, dims),
                       _as_list(padding, dims), _as_list(dilation, dims),
                       groups)

"""SDPA's math kernel: attention that can be differentiated twice."""
import pytest
import torch
import torch.nn.functional as F

from kdiga_mmrazor.ops.double_backward import sdpa_math_kernel

from .helpers import f64


def _attention_by_hand(q, k, v):
    weights = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1]**0.5, -1)
    return weights @ v


def _second_order(attention, q, k, v):
    q = q.detach().clone().requires_grad_()
    (g_q, ) = torch.autograd.grad(
        attention(q, k, v).sin().sum(), q, create_graph=True)
    return torch.autograd.grad((g_q**2).sum(), q)[0]


def test_math_kernel_gives_the_double_backward_of_attention():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 2, 5, 4, **f64) for _ in range(3))
    with sdpa_math_kernel():
        got = _second_order(F.scaled_dot_product_attention, q, k, v)
    want = _second_order(_attention_by_hand, q, k, v)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-11)


def test_fused_kernel_outside_the_context_has_no_double_backward():
    """On CPU, float32 attention of this shape picks the fused flash
    kernel, which has no double backward: the context is needed."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 2, 64, 16) for _ in range(3))
    with sdpa_math_kernel():
        _second_order(F.scaled_dot_product_attention, q, k, v)  # works
    with pytest.raises(RuntimeError, match='derivative'):
        _second_order(F.scaled_dot_product_attention, q, k, v)

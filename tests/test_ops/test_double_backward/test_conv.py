"""Convolutions: closed-form double backward, same numbers as PyTorch."""
import pytest
import torch
import torch.nn.functional as F

from kdiga_mmrazor.ops.double_backward import FastDoubleBackward
from kdiga_mmrazor.ops.double_backward.conv import conv_nd

from .helpers import assert_all_close, f64


@pytest.mark.parametrize('dims, kwargs', [
    (2, dict(stride=2, padding=1)),
    (2, dict(padding=(1, 2), dilation=2, groups=2)),
    (1, dict(stride=3, padding=2)),
    (3, dict(padding=1)),
])
def test_conv_nd_gradgradcheck(dims, kwargs):
    torch.manual_seed(0)
    groups = kwargs.get('groups', 1)
    size = (6, 6, 4)[dims - 1]
    x = torch.randn((2, 4) + (size, ) * dims, **f64, requires_grad=True)
    w = torch.randn((6, 4 // groups) + (3, ) * dims, **f64,
                    requires_grad=True)
    b = torch.randn(6, **f64, requires_grad=True)

    def fn(x, w, b):
        return conv_nd(x, w, b, **kwargs)

    want = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims](x, w, b, **kwargs)
    torch.testing.assert_close(fn(x, w, b), want)
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))

def test_third_derivatives_match_pytorch():
    """Convolutions and GELU stay differentiable when the second backward
    itself records a graph (their out-of-place branches)."""
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(3, 4, 3, padding=1).double()
    x = torch.randn(2, 3, 6, **f64)
    params = list(conv.parameters())

    def third(x):
        x = x.detach().clone().requires_grad_()
        h = F.gelu(conv(x))
        (g1, ) = torch.autograd.grad(h.sin().sum(), x, create_graph=True)
        (g2, ) = torch.autograd.grad((g1**2).sum(), x, create_graph=True)
        return torch.autograd.grad((g2**2).sum(), [x] + params)

    want = third(x)
    with FastDoubleBackward():
        got = third(x)
    assert_all_close(got, want)


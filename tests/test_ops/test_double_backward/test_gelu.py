"""Exact GELU: closed-form double backward, same numbers as PyTorch."""
import torch
import torch.nn.functional as F

from kdiga_mmrazor.ops.double_backward.gelu import gelu

from .helpers import f64


def test_gelu_gradgradcheck():
    x = torch.linspace(-4, 4, 24, **f64).view(4, 6).requires_grad_()
    torch.testing.assert_close(gelu(x), F.gelu(x))
    assert torch.autograd.gradcheck(gelu, (x, ))
    assert torch.autograd.gradgradcheck(gelu, (x, ))

"""LayerNorm: closed-form double backward, second order only."""
import pytest
import torch
import torch.nn.functional as F

from kdiga_mmrazor.ops.double_backward import FastDoubleBackward
from kdiga_mmrazor.ops.double_backward.layer_norm import layer_norm

from .helpers import f64


@pytest.mark.parametrize('normalized_shape, affine', [((5, ), True),
                                                      ((5, ), False),
                                                      ((3, 5), True)])
def test_layer_norm_gradgradcheck(normalized_shape, affine):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 3, 5, **f64, requires_grad=True)
    inputs = (x, )
    if affine:
        inputs += (torch.randn(*normalized_shape, **f64, requires_grad=True),
                   torch.randn(*normalized_shape, **f64, requires_grad=True))

    def fn(*args):
        return layer_norm(args[0], normalized_shape, *args[1:])

    torch.testing.assert_close(
        fn(*inputs), F.layer_norm(x, normalized_shape, *inputs[1:]))
    assert torch.autograd.gradcheck(fn, inputs)
    assert torch.autograd.gradgradcheck(fn, inputs)

def test_third_derivative_is_refused():
    x = torch.randn(4, 3, **f64, requires_grad=True)
    with FastDoubleBackward():
        out = F.layer_norm(x, (3, ))
    (g1, ) = torch.autograd.grad(out.sin().sum(), x, create_graph=True)
    torch.autograd.grad((g1**2).sum(), x, retain_graph=True)  # 2nd: fine
    with pytest.raises(RuntimeError, match='third-order'):
        torch.autograd.grad((g1**2).sum(), x, create_graph=True)

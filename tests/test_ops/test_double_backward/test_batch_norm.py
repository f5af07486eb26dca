"""Training-mode BatchNorm: closed-form double backward, second order only."""
import pytest
import torch
import torch.nn.functional as F

from kdiga_mmrazor.ops.double_backward import FastDoubleBackward
from kdiga_mmrazor.ops.double_backward.batch_norm import batch_norm_train

from .helpers import f64


@pytest.mark.parametrize('shape', [(8, 3), (6, 3, 5), (4, 3, 4, 5)])
@pytest.mark.parametrize('affine', [True, False])
def test_batch_norm_train_gradgradcheck(shape, affine):
    torch.manual_seed(0)
    x = torch.randn(*shape, **f64, requires_grad=True)
    if affine:
        w = (torch.rand(3, **f64) + 0.5).requires_grad_()
        b = torch.randn(3, **f64, requires_grad=True)
        inputs = (x, w, b)

        def fn(x, w, b):
            return batch_norm_train(x, None, None, w, b)
    else:
        inputs = (x, )

        def fn(x):
            return batch_norm_train(x, None, None)

    assert torch.autograd.gradcheck(fn, inputs)
    # second derivatives with respect to every output (g_x, g_w, g_b)
    assert torch.autograd.gradgradcheck(fn, inputs)

def test_third_derivative_is_refused():
    x = torch.randn(4, 3, **f64, requires_grad=True)
    with FastDoubleBackward():
        out = F.batch_norm(x, None, None, training=True)
    (g1, ) = torch.autograd.grad(out.sin().sum(), x, create_graph=True)
    torch.autograd.grad((g1**2).sum(), x, retain_graph=True)  # 2nd: fine
    with pytest.raises(RuntimeError, match='third-order'):
        torch.autograd.grad((g1**2).sum(), x, create_graph=True)

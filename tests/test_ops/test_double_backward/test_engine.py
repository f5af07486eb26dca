"""The g_s backward computes only the gradients that will be used."""
import torch

from kdiga_mmrazor.ops.double_backward import FastDoubleBackward

from .helpers import OpLog


def test_input_gradient_skips_weight_gradients():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    bn = torch.nn.BatchNorm2d(4).train()
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    with FastDoubleBackward():
        out = bn(conv(x)).square().sum()
    with OpLog() as log:
        (g, ) = torch.autograd.grad(out, x, create_graph=True)
    (want, ) = torch.autograd.grad(
        bn(conv(x)).square().sum(), x, create_graph=True)
    torch.testing.assert_close(g, want)
    assert g.requires_grad and x.grad is None and conv.weight.grad is None
    masks = [args[-1] for func, args in log.calls
             if func is torch.ops.aten.convolution_backward.default]
    assert masks == [[True, False, False]]  # input only, no g_W, no g_b

    g.square().sum().backward()  # now the weights' gradients are needed
    assert conv.weight.grad is not None and bn.weight.grad is not None


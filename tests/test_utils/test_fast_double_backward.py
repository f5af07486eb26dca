"""Closed-form double backwards: same numbers as PyTorch's, less work."""
import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from kdiga_mmrazor.models.backbones import CifarResNet
from kdiga_mmrazor.utils.batch_norm_double_backward import batch_norm_train
from kdiga_mmrazor.utils.conv_double_backward import conv_nd
from kdiga_mmrazor.utils.fast_double_backward import FastDoubleBackward
from kdiga_mmrazor.utils.gelu_double_backward import gelu
from kdiga_mmrazor.utils.layer_norm_double_backward import layer_norm
from kdiga_mmrazor.utils.sdpa import sdpa_math_kernel

f64 = dict(dtype=torch.float64)


def grad_of_input_grad_penalty(forward, x, params):
    """∇ of ‖∇ₓ L‖² with respect to (x, *params), L a fixed nonlinear
    read-out of ``forward(x)``: exercises first and second derivatives."""
    x = x.detach().clone().requires_grad_()
    out = forward(x)
    probe = torch.linspace(-1, 1, out.numel(), **f64).view_as(out)
    loss = (out.sin() * probe).sum()
    (g_x, ) = torch.autograd.grad(loss, x, create_graph=True)
    return torch.autograd.grad((g_x**2).sum(), [x] + list(params))


def assert_all_close(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


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


def test_gelu_gradgradcheck():
    x = torch.linspace(-4, 4, 24, **f64).view(4, 6).requires_grad_()
    torch.testing.assert_close(gelu(x), F.gelu(x))
    assert torch.autograd.gradcheck(gelu, (x, ))
    assert torch.autograd.gradgradcheck(gelu, (x, ))


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


def test_mode_matches_pytorch_on_a_transformer_block():
    torch.manual_seed(0)
    block = torch.nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation='gelu', batch_first=True,
        norm_first=True).double()
    x = torch.randn(3, 5, 8, **f64)
    params = list(block.parameters())

    def forward(inp):
        return block(inp)

    with sdpa_math_kernel():  # no double backward in the fused kernels
        want = grad_of_input_grad_penalty(forward, x, params)
        with FastDoubleBackward():
            got = grad_of_input_grad_penalty(forward, x, params)
            used = graph_ops(forward(x.requires_grad_()))
    assert_all_close(got, want)
    assert {'_LayerNormBackward', '_GeluBackward'} <= used


def test_mode_matches_pytorch_on_a_resnet():
    """A CIFAR ResNet in training mode: the input-gradient penalty's
    gradients and the BatchNorm running statistics equal PyTorch's."""
    torch.manual_seed(0)
    net = CifarResNet(depth=8).double()
    net.train()
    x = torch.rand(6, 3, 16, 16, **f64)
    params = list(net.parameters())
    stats = [b.clone() for b in net.buffers()]

    def forward(inp):
        return net(inp)[0]

    want = grad_of_input_grad_penalty(forward, x, params)
    want_stats = [b.clone() for b in net.buffers()]
    for b, s in zip(net.buffers(), stats):
        b.copy_(s)
    with FastDoubleBackward():
        got = grad_of_input_grad_penalty(forward, x, params)
    assert_all_close(got, want)
    assert_all_close(list(net.buffers()), want_stats)
    with FastDoubleBackward():
        used = graph_ops(forward(x.requires_grad_()))
    assert {'_ConvBackward', '_BatchNormTrainBackward'} <= used
    assert any(g.abs().sum() > 0 for g in got[1:])


class OpLog(TorchDispatchMode):
    """The aten ops run, with their arguments."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls.append((func, args))
        return func(*args, **(kwargs or {}))


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


def graph_ops(out):
    names, stack, seen = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        stack.extend(n for n, _ in node.next_functions)
    return names


def test_mode_leaves_other_calls_to_pytorch():
    conv = torch.nn.Conv2d(3, 4, 3, padding='same')
    bn = torch.nn.BatchNorm2d(4)
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    with FastDoubleBackward():
        fast = graph_ops(bn.train()(F.conv2d(x, conv.weight, padding=1)))
        string_padding = graph_ops(conv(x))
        eval_bn = graph_ops(bn.eval()(x.repeat(1, 2, 1, 1)[:, :4]))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            amp = graph_ops(bn.train()(conv(x)))
        with torch.no_grad():
            assert bn.train()(conv(x)).grad_fn is None
    assert {'_ConvBackward', '_BatchNormTrainBackward'} <= fast
    assert 'ConvolutionBackward0' in string_padding
    assert '_BatchNormTrainBackward' not in eval_bn
    assert not {'_ConvBackward', '_BatchNormTrainBackward'} & amp


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


@pytest.mark.parametrize('norm', ['batch_norm', 'layer_norm'])
def test_norm_third_derivatives_are_refused(norm):
    x = torch.randn(4, 3, **f64, requires_grad=True)
    with FastDoubleBackward():
        if norm == 'batch_norm':
            out = F.batch_norm(x, None, None, training=True)
        else:
            out = F.layer_norm(x, (3, ))
    (g1, ) = torch.autograd.grad(out.sin().sum(), x, create_graph=True)
    torch.autograd.grad((g1**2).sum(), x, retain_graph=True)  # 2nd: fine
    with pytest.raises(RuntimeError, match='third-order'):
        torch.autograd.grad((g1**2).sum(), x, create_graph=True)


def test_edge_cases_fall_back_to_pytorch():
    """One value per BatchNorm channel: PyTorch's error, running statistics
    untouched. A LayerNorm over the whole tensor: PyTorch's own path."""
    bn = torch.nn.BatchNorm1d(3)
    x = torch.randn(1, 3, requires_grad=True)
    with FastDoubleBackward(), pytest.raises(ValueError):
        bn(x)
    assert torch.equal(bn.running_var, torch.ones(3))

    x = torch.randn(3, 4, **f64, requires_grad=True)
    w = torch.randn(3, 4, **f64, requires_grad=True)
    with FastDoubleBackward():
        (g, ) = torch.autograd.grad(
            F.layer_norm(x, (3, 4), w).sin().sum(), x, create_graph=True)
    (g**2).sum().backward()
    assert w.grad.shape == (3, 4)

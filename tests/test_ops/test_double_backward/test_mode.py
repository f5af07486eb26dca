"""FastDoubleBackward: PyTorch's numbers on whole networks; fallbacks."""
import pytest
import torch
import torch.nn.functional as F

from kdiga_mmrazor.models.backbones import CifarResNet
from kdiga_mmrazor.ops.double_backward import (
    FastDoubleBackward,
    sdpa_math_kernel,
)

from .helpers import (
    assert_all_close,
    f64,
    grad_of_input_grad_penalty,
    graph_ops,
)


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

"""frozen_eval: eval mode and frozen parameters inside; every module's
mode and every parameter's ``requires_grad`` restored after.
frozen_parameters: the parameters alone, modes untouched."""
import pytest
import torch
from torch import nn

from kdiga_mmrazor.utils.frozen_eval import frozen_eval, frozen_parameters


@pytest.fixture
def net():
    """Train mode except ``drop`` (eval); ``conv.bias`` frozen; ``fc``
    shares its weight with ``tied`` (one parameter, two modules)."""
    torch.manual_seed(0)
    net = nn.Module()
    net.conv = nn.Conv2d(3, 2, 3)
    net.bn = nn.BatchNorm2d(2)
    net.drop = nn.Dropout(0.5)
    net.fc = nn.Linear(4, 4)
    net.tied = nn.Linear(4, 4, bias=False)
    net.tied.weight = net.fc.weight
    net.train()
    net.drop.eval()
    net.conv.bias.requires_grad_(False)
    return net


def _modes(net):
    return {n: m.training for n, m in net.named_modules()}


def _flags(net):
    return {n: p.requires_grad for n, p in net.named_parameters()}


MODES = {'': True, 'conv': True, 'bn': True, 'drop': False, 'fc': True,
         'tied': True}
FLAGS = {'conv.weight': True, 'conv.bias': False, 'bn.weight': True,
         'bn.bias': True, 'fc.weight': True, 'fc.bias': True}


def test_fixture_state_is_mixed(net):
    assert (_modes(net), _flags(net)) == (MODES, FLAGS)


def test_inside_every_module_is_in_eval_mode(net):
    with frozen_eval(net):
        assert _modes(net) == {n: False for n in MODES}


def test_inside_no_parameter_requires_grad(net):
    with frozen_eval(net):
        assert _flags(net) == {n: False for n in FLAGS}


def test_yields_the_model(net):
    with frozen_eval(net) as frozen:
        assert frozen is net


def test_modes_restored_module_by_module(net):
    with frozen_eval(net):
        pass
    assert _modes(net) == MODES


def test_requires_grad_restored_parameter_by_parameter(net):
    with frozen_eval(net):
        pass
    assert _flags(net) == FLAGS


def test_state_restored_after_an_exception(net):
    with pytest.raises(RuntimeError, match='inside'):
        with frozen_eval(net):
            raise RuntimeError('inside')
    assert (_modes(net), _flags(net)) == (MODES, FLAGS)


def test_changes_made_inside_are_undone(net):
    with frozen_eval(net):
        net.bn.train()
        net.fc.bias.requires_grad_(True)
    assert (_modes(net), _flags(net)) == (MODES, FLAGS)


def test_nested_blocks_restore_the_outer_state(net):
    with frozen_eval(net):
        with frozen_eval(net.bn):
            pass
        assert not net.bn.training
        assert not net.bn.weight.requires_grad
    assert (_modes(net), _flags(net)) == (MODES, FLAGS)


def test_no_gradient_reaches_the_parameters_inside(net):
    x = torch.rand(1, 4, requires_grad=True)
    with frozen_eval(net):
        net.fc(x).sum().backward()
    assert x.grad is not None
    assert all(p.grad is None for p in net.parameters())


def test_frozen_parameters_keeps_every_mode_and_restores_the_flags(net):
    with pytest.raises(RuntimeError, match='inside'):
        with frozen_parameters(net) as frozen:
            assert frozen is net
            assert _modes(net) == MODES
            assert not any(_flags(net).values())
            raise RuntimeError('inside')
    assert (_modes(net), _flags(net)) == (MODES, FLAGS)

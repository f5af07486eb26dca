"""BaseAttack: ε and norm checks, names and labels, strength, the input
range, finiteness and dtype of the inputs, radii against the image cube,
the model's modes and ``requires_grad`` restored."""
import re

import pytest
import torch
from torch import nn

from kdiga_mmrazor.attacks import BaseAttack, FGSMAttack, PGDAttack, eps_label
from kdiga_mmrazor.attacks.base import into_ball

from .conftest import SHAPE


class ShiftAttack(BaseAttack):
    """Adds ε to every pixel (clipped); records the model's state while
    it runs."""

    def perturb(self, model, x, y):
        self.seen = dict(
            training={n: m.training
                      for n, m in model.named_modules()},
            requires_grad={
                n: p.requires_grad
                for n, p in model.named_parameters()
            },
            grad_enabled=torch.is_grad_enabled())
        return (x + self.eps).clamp(0, 1)


def test_linf_eps_in_255_scale_is_refused_naming_eps_and_fix():
    # 8 / 255 = 0.03137
    with pytest.raises(ValueError, match=r'eps=8 .*eps=8 / 255 '
                       r'\(= 0\.03137\)'):
        ShiftAttack(eps=8)


def test_linf_eps_of_one_is_the_whole_cube_and_above_is_refused():
    assert ShiftAttack(eps=1).eps == 1.0  # every image of [0, 1]^d
    with pytest.raises(ValueError, match=r'^ShiftAttack: eps=1\.5 is not in '
                       r'the \[0, 1\] pixel scale of L∞ budgets; pixels are '
                       r'in \[0, 1\]: write eps=1\.5 / 255 \(= 0\.00588\), '
                       r'not eps=1\.5$'):
        ShiftAttack(eps=1.5)


def test_l2_eps_above_one_is_accepted():
    assert ShiftAttack(eps=12, norm='l2').eps == 12.0


def test_negative_eps_is_refused():
    with pytest.raises(ValueError, match=r'eps must be >= 0, got -0\.1'):
        ShiftAttack(eps=-0.1)


def test_unknown_norm_is_refused_naming_accepted_norms():
    with pytest.raises(ValueError, match=r"norm must be one of \('linf', "
                       r"'l2', 'l1'\), got 'l3'"):
        ShiftAttack(eps=0.5, norm='l3')


def test_eps_label_of_linf_eps_on_grid_is_grey_levels():
    assert eps_label(8 / 255) == '8'


def test_eps_label_of_l2_radius_is_as_written():
    assert eps_label(0.5, 'l2') == '0.5'


def test_eps_label_of_linf_eps_off_grid_is_as_written():
    # 0.01 * 255 = 2.55, not an integer
    assert eps_label(0.01) == '0.01'


def test_default_name_is_class_norm_and_eps_label():
    assert ShiftAttack(eps=4 / 255).name == 'shiftattack_linf_4'
    assert ShiftAttack(eps=0.5, norm='l2').name == 'shiftattack_l2_0.5'


def test_name_argument_overrides_default_name():
    attack = ShiftAttack(eps=4 / 255, name='my_attack')
    assert attack.name == 'my_attack'
    assert attack.default_name() == 'shiftattack_linf_4'


def test_strength_defaults_to_none():
    assert ShiftAttack(eps=4 / 255).strength is None


def test_fgsm_strength_is_one_step():
    assert FGSMAttack(eps=8 / 255).strength == 1.0


def test_pgd_strength_is_steps_times_restarts():
    attack = PGDAttack(eps=8 / 255, steps=10, restarts=2)
    assert attack.strength == 10 * 2


def test_settings_hold_type_name_norm_eps_seed():
    assert ShiftAttack(eps=0.5, norm='l2', seed=3).settings() == dict(
        type='ShiftAttack', name='shiftattack_l2_0.5', norm='l2', eps=0.5,
        seed=3)


@pytest.mark.parametrize('low, high', [(-0.1, 0.5), (0.5, 1.2)])
def test_inputs_outside_unit_range_are_refused(low, high):
    x = torch.full((2, *SHAPE), 0.5)
    x[0, 0, 0, 0], x[1, 0, 0, 0] = low, high
    with pytest.raises(ValueError, match=r'inputs must be pixels in '
                       r'\[0, 1\].*before mean/std normalisation'):
        ShiftAttack(eps=0.1)(nn.Identity(), x, torch.zeros(2).long())


def test_call_returns_detached_perturbation():
    x = torch.full((2, *SHAPE), 0.5)
    x_adv = ShiftAttack(eps=0.1)(nn.Identity(), x, torch.zeros(2).long())
    torch.testing.assert_close(x_adv, torch.full((2, *SHAPE), 0.5 + 0.1))
    assert not x_adv.requires_grad


def _net_in_train_mode_with_frozen_param():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 2, 3, padding=1), nn.BatchNorm2d(2), nn.Dropout(0.5),
        nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    net.train()
    net[2].eval()  # one submodule already in eval mode
    net[0].bias.requires_grad_(False)
    return net


def test_model_is_frozen_in_eval_mode_while_perturb_runs():
    net = _net_in_train_mode_with_frozen_param()
    attack = ShiftAttack(eps=0.1)
    with torch.no_grad():  # the attack turns gradients back on
        attack(net, torch.rand(2, *SHAPE), torch.tensor([0, 1]))
    assert not any(attack.seen['training'].values())
    assert not any(attack.seen['requires_grad'].values())
    assert attack.seen['grad_enabled']


def test_modes_and_requires_grad_restored_module_by_module():
    net = _net_in_train_mode_with_frozen_param()
    ShiftAttack(eps=0.1)(net, torch.rand(2, *SHAPE), torch.tensor([0, 1]))
    assert {n: m.training for n, m in net.named_modules()} == {
        '': True, '0': True, '1': True, '2': False, '3': True, '4': True}
    assert {n: p.requires_grad for n, p in net.named_parameters()} == {
        '0.weight': True, '0.bias': False, '1.weight': True,
        '1.bias': True, '4.weight': True, '4.bias': True}


def test_modes_restored_after_a_real_attack():
    net = _net_in_train_mode_with_frozen_param()
    PGDAttack(eps=8 / 255, steps=2)(net, torch.rand(2, *SHAPE),
                                    torch.tensor([0, 1]))
    assert [m.training for m in net.modules()] == [
        True, True, True, False, True, True]
    assert [p.requires_grad for p in net.parameters()] == [
        True, False, True, True, True, True]


class CountingNet(nn.Module):
    """A linear model that counts its forward calls."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(48, 2)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.fc(x.flatten(1))


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_pixels_are_refused_naming_the_attack(bad):
    net = CountingNet()
    x = torch.full((3, *SHAPE), 0.5)
    x[1, 2, 0, 3] = bad
    with pytest.raises(ValueError, match=r"^ShiftAttack 'shiftattack_linf_4"
                       r"': inputs have 1 non-finite pixels \(NaN or inf\) in "
                       r'1 of 3 images \(batch indices \[1\]\)'):
        ShiftAttack(eps=4 / 255)(net, x, torch.zeros(3).long())
    assert net.calls == 0


def test_integer_pixels_are_refused_with_the_fix():
    x = torch.full((2, *SHAPE), 128, dtype=torch.uint8)
    with pytest.raises(TypeError, match=r"^ShiftAttack 'shiftattack_linf_4"
                       r"': inputs must be floating-point pixels in \[0, 1\], "
                       r'got torch.uint8; divide by 255 first'):
        ShiftAttack(eps=4 / 255)(nn.Identity(), x, torch.zeros(2).long())


@pytest.mark.parametrize('norm, eps, diameter, formula', [
    ('l2', 7.0, '6.928', 'sqrt(48)'),  # √48 = 6.928
    ('l1', 48.5, '48', '48'),
])
def test_radius_beyond_the_cube_is_refused_before_any_forward(
        norm, eps, diameter, formula):
    net = CountingNet()
    attack = ShiftAttack(eps=eps, norm=norm)  # shape unknown: accepted
    with pytest.raises(ValueError, match=(
            rf"^ShiftAttack 'shiftattack_{norm}_{eps:g}': eps={eps:g} "
            rf'exceeds {diameter}, the L\d diameter of the image cube '
            rf'\[0, 1\]\^\(3×4×4\) \(= {re.escape(formula)}\).*at most '
            rf'{diameter} for this input')):
        attack(net, torch.full((2, *SHAPE), 0.5), torch.zeros(2).long())
    assert net.calls == 0


def test_radius_of_exactly_the_diameter_is_accepted():
    x_adv = ShiftAttack(eps=48 ** 0.5, norm='l2')(
        nn.Identity(), torch.zeros(1, *SHAPE), torch.zeros(1).long())
    assert x_adv.max().item() == 1.0


def test_float64_inputs_run_in_the_models_dtype_and_come_back_float64():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(48, 2))
    x = torch.rand(4, *SHAPE)
    attack = PGDAttack(eps=8 / 255, steps=3)
    x32 = attack(net, x, torch.tensor([0, 1, 0, 1]))
    x64 = attack(net, x.double(), torch.tensor([0, 1, 0, 1]))
    assert (x32.dtype, x64.dtype) == (torch.float32, torch.float64)
    torch.testing.assert_close(x64, x32.double(), rtol=0, atol=1e-7)
    assert (x64 - x.double()).abs().max().item() <= 8 / 255
    assert 0 <= x64.min().item() and x64.max().item() <= 1


@pytest.mark.parametrize('norm, eps', [('linf', 0.1), ('l2', 0.5),
                                       ('l1', 2.0)])
def test_into_ball_bounds_the_perturbation_in_the_norm(norm, eps):
    torch.manual_seed(0)
    x = torch.rand(5, *SHAPE, dtype=torch.float64)
    x_adv = into_ball(x + torch.randn_like(x), x, eps, norm)
    p = {'linf': float('inf'), 'l2': 2, 'l1': 1}[norm]
    sizes = (x_adv - x).flatten(1).norm(p=p, dim=1)
    assert sizes.max().item() <= eps * (1 + 1e-12)
    assert 0 <= x_adv.min().item() and x_adv.max().item() <= 1
    inside = x + 0.5 * (x_adv - x)  # already in the ball: unchanged
    torch.testing.assert_close(into_ball(inside, x, eps, norm), inside)


def test_empty_batch_comes_back_empty():
    net = CountingNet()
    x_adv = PGDAttack(eps=8 / 255)(net, torch.zeros(0, *SHAPE),
                                   torch.zeros(0).long())
    assert x_adv.shape == (0, *SHAPE) and net.calls == 0


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(eps='8/255'), TypeError, r"^ShiftAttack: eps='8/255' is a string; "
     r'write 8 / 255 as a Python expression in the config, not a string$'),
    (dict(eps=True), TypeError, r'^ShiftAttack: eps must be a real number, '
     r'got True \(bool\)$'),
    (dict(eps=None), TypeError, r'eps must be a real number, got None'),
    (dict(eps=float('nan')), ValueError, r'^ShiftAttack: eps must be a '
     r'finite number, got nan$'),
    (dict(eps=float('inf'), norm='l2'), ValueError, r'eps must be a finite '
     r'number, got inf'),
    (dict(eps=0.1, seed=1.5), ValueError, r'^ShiftAttack: seed must be an '
     r'int, got 1\.5$'),
    (dict(eps=0.1, name=3), TypeError, r'name must be a non-empty str'),
])
def test_bad_values_are_refused_at_build_naming_the_key(kwargs, error, match):
    with pytest.raises(error, match=match):
        ShiftAttack(**kwargs)

"""FGSMAttack: the closed form on a linear model, bounds, seeding, names
and the model left as found."""
import pytest
import torch

from kdiga_mmrazor.attacks import FGSMAttack
from kdiga_mmrazor.registry import ATTACKS

from .conftest import margin


@pytest.mark.parametrize('loss', ['ce', 'cw'])
def test_margin_drop_is_eps_times_l1_norm_on_linear_model(
        two_class_linear, loss):
    # With 2 classes ∇ₓ CE = p_j (w_j − w_y) and ∇ₓ margin = w_j − w_y:
    # one signed step of ε is the exact L∞ worst case, margin − ε‖w_y −
    # w_j‖₁ (x ∈ [0.4, 0.6], so x ± ε never meets the [0, 1] clip).
    model, x, y = two_class_linear
    eps = 0.01
    x_adv = ATTACKS.build(dict(type='FGSMAttack', eps=eps,
                               loss=loss))(model, x, y)
    w = model[1].weight.detach()
    expected = margin(model, x, y) - eps * (w[y] - w[1 - y]).abs().sum(1)
    torch.testing.assert_close(
        margin(model, x_adv, y), expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize('random_start', [False, True])
def test_images_stay_in_ball_and_box(trained_mlp, random_start):
    model, x, y = trained_mlp
    x = x.clone()
    x[:, 0], x[:, 1] = 0.0, 1.0  # pixels on the box edges
    eps = 8 / 255
    x_adv = FGSMAttack(eps=eps, random_start=random_start)(model, x, y)
    assert (x_adv - x).abs().max() <= eps + 1e-6
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    # without random start every pixel inside the box moves by exactly ε
    if not random_start:
        inner = (x > eps) & (x < 1 - eps)
        torch.testing.assert_close((x_adv - x).abs()[inner].min(),
                                   torch.tensor(eps), rtol=0, atol=1e-6)


def test_random_start_is_seeded(trained_mlp):
    model, x, y = trained_mlp
    run = lambda seed: FGSMAttack(  # noqa: E731
        eps=8 / 255, random_start=True, seed=seed)(model, x, y)
    torch.testing.assert_close(run(0), run(0), rtol=0, atol=0)
    assert (run(0) - run(1)).abs().max() > 1e-3


def test_model_left_as_found(bn_net, left_as_found):
    x, y = torch.rand(4, 3, 4, 4), torch.tensor([0, 1, 2, 3])
    attack = FGSMAttack(eps=8 / 255, random_start=True)
    left_as_found(bn_net, lambda: attack(bn_net, x, y))


def test_names_and_default_steps():
    plain = ATTACKS.build(dict(type='FGSMAttack', eps=8 / 255))
    fast = ATTACKS.build(
        dict(type='FGSMAttack', eps=8 / 255, random_start=True))
    assert (plain.name, fast.name) == ('fgsm_linf_8', 'fgsmrs_linf_8')
    assert plain.alpha == pytest.approx(8 / 255)
    assert fast.alpha == pytest.approx(1.25 * 8 / 255)  # Wong et al.
    assert FGSMAttack(eps=2 / 255, loss='cw').name == 'fgsmcw_linf_2'


def test_eps_in_255_scale_raises_naming_eps_and_fix():
    with pytest.raises(ValueError, match=r'eps=8 .*eps=8 / 255'):
        ATTACKS.build(dict(type='FGSMAttack', eps=8))


def test_other_norms_raise():
    with pytest.raises(ValueError, match=r"norm.*\('linf',\).*'l2'"):
        FGSMAttack(eps=0.5, norm='l2')


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(eps='8/255'), TypeError, r"^FGSMAttack: eps='8/255' is a string; "
     r'write 8 / 255 as a Python expression in the config, not a string$'),
    (dict(eps=8 / 255, alpha=2), ValueError, r'^FGSMAttack: alpha=2 is not '
     r'in the \[0, 1\] pixel scale.*write alpha=2 / 255'),
    (dict(eps=float('inf')), ValueError, r'eps must be a finite number'),
    (dict(eps=8 / 255, alpha=True), TypeError, r'alpha must be a real '
     r'number, got True'),
])
def test_bad_budgets_are_refused_naming_the_key(kwargs, error, match):
    with pytest.raises(error, match=match):
        FGSMAttack(**kwargs)


def test_nan_pixels_are_refused_naming_the_attack(two_class_linear):
    model, x, y = two_class_linear
    x = x.clone()
    x[0, 0, 0, 0] = float('inf')
    with pytest.raises(ValueError, match=r"^FGSMAttack 'fgsm_linf_8': "
                       r'inputs have 1 non-finite pixels'):
        FGSMAttack(eps=8 / 255)(model, x, y)


def test_float64_images_equal_the_float32_run(two_class_linear):
    model, x, y = two_class_linear
    attack = FGSMAttack(eps=0.01, random_start=True)
    x32, x64 = attack(model, x, y), attack(model, x.double(), y)
    assert x64.dtype == torch.float64
    torch.testing.assert_close(x64, x32.double(), rtol=0, atol=1e-7)

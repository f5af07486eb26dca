"""PGDAttack: closed forms on linear models, bounds, seeding, a reference
PGD, restarts, names and the model left as found."""
import pytest
import torch
from torch.nn import functional as F

from kdiga_mmrazor.attacks import PGDAttack
from kdiga_mmrazor.registry import ATTACKS

from .conftest import margin


def _w_diff(model, y):
    w = model[1].weight.detach()
    return w[y] - w[1 - y]  # (B, 48): w_y − w_j


@pytest.mark.parametrize('loss', ['ce', 'cw'])
def test_linf_margin_drop_is_eps_times_l1_norm_on_linear_model(
        two_class_linear, loss):
    # From any start in the ball, sign steps of 2.5·ε/20 walk each pixel
    # 2.5·ε towards x + ε·sign(w_j − w_y) (the ball is 2ε wide): the exact
    # L∞ worst case, margin − ε‖w_y − w_j‖₁ (x ± ε stays inside [0, 1]).
    model, x, y = two_class_linear
    eps = 0.01
    attack = ATTACKS.build(dict(type='PGDAttack', eps=eps, loss=loss))
    x_adv = attack(model, x, y)
    expected = margin(model, x, y) - eps * _w_diff(model, y).abs().sum(1)
    torch.testing.assert_close(
        margin(model, x_adv, y), expected, rtol=0, atol=1e-4)


def test_l2_margin_drop_is_eps_times_l2_norm_on_linear_model(
        two_class_linear):
    # Without random start every step moves along (w_j − w_y)/‖·‖₂; after
    # ⌈ε/α⌉ = 8 steps the projection holds it at the worst case
    # x + ε (w_j − w_y)/‖w_j − w_y‖₂: margin − ε‖w_y − w_j‖₂.
    model, x, y = two_class_linear
    eps = 0.05
    attack = PGDAttack(eps=eps, norm='l2', random_start=False)
    x_adv = attack(model, x, y)
    expected = margin(model, x, y) - eps * _w_diff(model, y).norm(dim=1)
    torch.testing.assert_close(
        margin(model, x_adv, y), expected, rtol=0, atol=1e-4)


def test_l2_random_start_converges_to_the_worst_case(two_class_linear):
    # From a random start, each step δ + α·u (u = (w_j − w_y)/‖·‖₂) and the
    # rescaling to radius ε shrink the component of δ orthogonal to u; with
    # α = ε it at least halves per step once on the sphere, so 20 steps
    # reach ε·u: the drop is ε‖w_y − w_j‖₂ to float precision.
    model, x, y = two_class_linear
    eps = 0.05
    attack = PGDAttack(eps=eps, norm='l2', alpha=eps, steps=20)
    drop = margin(model, x, y) - margin(model, attack(model, x, y), y)
    torch.testing.assert_close(
        drop, eps * _w_diff(model, y).norm(dim=1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('norm,eps', [('linf', 8 / 255), ('l2', 0.5)])
def test_images_stay_in_ball_and_box(trained_mlp, norm, eps):
    model, x, y = trained_mlp
    x = x.clone()
    x[:, 0] = 0.0  # pixels on the box edges: the clip must act
    x[:, 1] = 1.0
    x_adv = PGDAttack(eps=eps, norm=norm, steps=5)(model, x, y)
    p = float('inf') if norm == 'linf' else 2
    size = (x_adv - x).flatten(1).norm(p=p, dim=1)
    assert size.max() <= eps + 1e-6, size.max().item()
    assert x_adv.min() >= 0 and x_adv.max() <= 1


@pytest.mark.parametrize('norm,eps', [('linf', 8 / 255), ('l2', 0.5)])
def test_same_seed_same_images_other_seed_other_images(
        trained_mlp, norm, eps):
    model, x, y = trained_mlp
    run = lambda seed: PGDAttack(  # noqa: E731
        eps=eps, norm=norm, steps=2, seed=seed)(model, x, y)
    torch.testing.assert_close(run(0), run(0), rtol=0, atol=0)
    assert (run(0) - run(1)).abs().max() > 1e-3
    torch.manual_seed(123)  # the global RNG plays no part
    torch.testing.assert_close(run(0), run(0), rtol=0, atol=0)


def _reference_pgd(model, x, y, eps, steps, seed):
    """Plain PGD as in TRADES' pgd_attack_cifar10.py, with the documented
    random start: δ₀ = (2u − 1)·ε, u = torch.rand from Generator(seed)."""
    gen = torch.Generator().manual_seed(seed)
    alpha = 2.5 * eps / steps
    x_pgd = x + (torch.rand(x.shape, generator=gen) * 2 - 1) * eps
    x_pgd = x_pgd.clamp(0, 1)
    for _ in range(steps):
        x_pgd.requires_grad_(True)
        loss = F.cross_entropy(model(x_pgd), y)
        grad, = torch.autograd.grad(loss, x_pgd)
        x_pgd = x_pgd.detach() + alpha * grad.sign()
        eta = torch.clamp(x_pgd - x, -eps, eps)
        x_pgd = torch.clamp(x + eta, 0, 1)
    return x_pgd


def test_pgd20_equals_hand_written_pgd(trained_mlp):
    model, x, y = trained_mlp
    eps = 8 / 255
    ours = PGDAttack(eps=eps, steps=20, seed=3)(model, x, y)
    ref = _reference_pgd(model, x, y, eps, 20, seed=3)
    # clip(x + clip(x' − x)) vs min(max(x', x − ε), x + ε): 1 ulp apart
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)
    with torch.no_grad():
        assert torch.equal(model(ours).argmax(1), model(ref).argmax(1))


class _Plateau(torch.nn.Module):
    """2 classes; class 1 wins iff pixel 0 exceeds 0.5 + ε/2 + 0.01.

    Below the threshold the gradient is 0 (``sign(0) = 0``: PGD stays put),
    above it PGD pushes the pixel to 0.5 + ε (z₁ = 100·ε/2 − 1 > 0), so on
    images of 0.5 a restart breaks a sample iff its uniform random start
    lands in the top quarter of the ball: restarts matter.
    """

    def __init__(self, eps: float) -> None:
        super().__init__()
        self.threshold = 0.5 + eps / 2

    def forward(self, x):
        z1 = 100 * torch.relu(x[:, 0, 0, 0] - self.threshold) - 1
        return torch.stack([torch.zeros_like(z1), z1], dim=1)


def test_restarts_keep_the_per_sample_worst_case():
    # Restart 0 draws what a single run draws, so every sample it breaks
    # stays broken; later restarts add samples (P = 1 − 0.75⁸ ≈ 0.9 each),
    # and the image returned for a broken sample is one that breaks it.
    eps = 0.1
    model = _Plateau(eps)
    x, y = torch.full((8, 3, 4, 4), 0.5), torch.zeros(8, dtype=torch.long)
    single = PGDAttack(eps=eps, steps=2)(model, x, y)
    multi = PGDAttack(eps=eps, steps=2, restarts=8)(model, x, y)
    broken_1 = model(single).argmax(1) != y
    broken_8 = model(multi).argmax(1) != y
    assert (broken_8 | ~broken_1).all(), (broken_1, broken_8)
    assert broken_8.sum() > broken_1.sum() >= 1, (broken_1, broken_8)
    assert (multi - x).abs().max() <= eps + 1e-6


def test_cw_and_ce_both_break_the_toy_model(trained_mlp):
    model, x, y = trained_mlp
    for loss in ('ce', 'cw'):
        x_adv = PGDAttack(eps=32 / 255, loss=loss)(model, x, y)
        with torch.no_grad():
            acc = (model(x_adv).argmax(1) == y).float().mean().item()
        assert acc == 0.0, (loss, acc)


@pytest.mark.parametrize('norm', ['linf', 'l2'])
def test_model_left_as_found(bn_net, left_as_found, norm):
    x, y = torch.rand(4, 3, 4, 4), torch.tensor([0, 1, 2, 3])
    eps = 8 / 255 if norm == 'linf' else 0.5
    attack = PGDAttack(eps=eps, norm=norm, steps=3, restarts=2)
    left_as_found(bn_net, lambda: attack(bn_net, x, y))


def test_default_step_and_names():
    attack = ATTACKS.build(dict(type='PGDAttack', eps=8 / 255, steps=20))
    assert attack.alpha == pytest.approx(2.5 * (8 / 255) / 20)
    assert attack.name == 'pgd20_linf_8'
    names = [
        PGDAttack(eps=8 / 255, loss='cw').name,
        PGDAttack(eps=8 / 255, restarts=5).name,
        PGDAttack(eps=2 / 255, steps=10, loss='cw', restarts=3).name,
        PGDAttack(eps=0.5, norm='l2').name,
        PGDAttack(eps=8 / 255, name='mine').name,
    ]
    assert names == [
        'pgd20cw_linf_8', 'pgd20x5_linf_8', 'pgd10cwx3_linf_2',
        'pgd20_l2_0.5', 'mine'
    ]
    assert attack.settings()['restarts'] == 1


def test_eps_in_255_scale_raises_naming_eps_and_fix():
    with pytest.raises(ValueError, match=r'eps=8 .*eps=8 / 255'):
        ATTACKS.build(dict(type='PGDAttack', eps=8))
    with pytest.raises(ValueError, match=r'alpha=2.*alpha=2 / 255'):
        PGDAttack(eps=8 / 255, alpha=2)


@pytest.mark.parametrize(
    'kwargs,match',
    [(dict(norm='l3'), r"norm.*'linf', 'l2'.*'l3'"),
     (dict(norm='l1'), r"norm.*'l1'"),
     (dict(loss='mse'), r"loss.*'ce', 'cw'.*'mse'"),
     (dict(steps=0), 'steps'),
     (dict(steps=True), r'^PGDAttack: steps must be an int >= 1, got True$'),
     (dict(steps=2.5), r'^PGDAttack: steps must be an int >= 1, got 2\.5$'),
     (dict(restarts=0), 'restarts'),
     (dict(alpha=float('nan')), r'^PGDAttack: alpha must be a finite'),
     (dict(alpha=-0.01), r'^PGDAttack: alpha must be >= 0, got -0\.01$'),
     (dict(restarts=3, random_start=False), 'random_start=True')])
def test_bad_settings_raise_naming_the_key(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PGDAttack(eps=8 / 255, **kwargs)


def test_string_step_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"^PGDAttack: alpha='2/255' is a "
                       r'string; write 2 / 255 as a Python expression'):
        PGDAttack(eps=8 / 255, alpha='2/255')


def test_l2_eps_in_255_scale_is_refused_at_the_first_call(two_class_linear):
    # eps = 128 reaches every image of [0, 1]^48 (diameter √48 = 6.93);
    # before this check it gave 0 % robust accuracy
    model, x, y = two_class_linear
    attack = ATTACKS.build(dict(type='PGDAttack', eps=128, norm='l2'))
    with pytest.raises(ValueError, match=r"^PGDAttack 'pgd20_l2_128': "
                       r'eps=128 exceeds 6\.928, the L2 diameter'):
        attack(model, x, y)


def test_l2_step_beyond_the_cube_is_refused_at_the_call(two_class_linear):
    model, x, y = two_class_linear
    attack = PGDAttack(eps=0.5, alpha=10, norm='l2')
    with pytest.raises(ValueError, match=r"^PGDAttack 'pgd20_l2_0\.5': "
                       r'alpha=10 exceeds 6\.928'):
        attack(model, x, y)


@pytest.mark.parametrize('norm,eps', [('linf', 0.01), ('l2', 0.05)])
def test_float64_images_equal_the_float32_run(two_class_linear, norm, eps):
    model, x, y = two_class_linear
    attack = PGDAttack(eps=eps, norm=norm, steps=5)
    x32 = attack(model, x, y)
    x64 = attack(model, x.double(), y)  # float32 model
    assert x64.dtype == torch.float64
    torch.testing.assert_close(x64, x32.double(), rtol=0, atol=1e-7)
    x64_model = attack(model.double(), x.double(), y)  # float64 throughout
    assert x64_model.dtype == torch.float64
    torch.testing.assert_close(x64_model, x32.double(), rtol=0, atol=1e-5)


def test_nan_pixels_are_refused_naming_the_attack(two_class_linear):
    model, x, y = two_class_linear
    x = x.clone()
    x[3, 0, 1, 1] = float('nan')
    with pytest.raises(ValueError, match=r"^PGDAttack 'pgd20_linf_8': inputs "
                       r'have 1 non-finite pixels'):
        PGDAttack(eps=8 / 255)(model, x, y)


def test_a_custom_objective_is_ascended_inside_the_ball():
    import torch.nn.functional as F

    from kdiga_mmrazor.attacks.pgd import pgd
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    x = 0.3 + 0.4 * torch.rand(6, 3, 2, 2)
    target = F.softmax(model(x), 1).detach()

    def kl(logits):
        return F.kl_div(F.log_softmax(logits, 1), target,
                        reduction='none').sum(1)

    # TRADES' start: x + 0.001 N(0, I) (at x itself the KL gradient is 0)
    start = x + 1e-3 * torch.randn(x.shape)
    x_adv = pgd(model, x, torch.zeros(6, dtype=torch.long), 4 / 255,
                1 / 255, 5, x_init=start, objective=kl)
    assert (x_adv - x).abs().max() <= 4 / 255 + 1e-7
    before, after = kl(model(start)), kl(model(x_adv))
    assert (after > 10 * before).all()

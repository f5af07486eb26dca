"""The pieces of adversarial training: training attacks checked at build,
the model's mode during the attack, the inner maximisations (closed forms
on linear models, the reference codes' loops), TRADES' KL."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from kdiga_mmrazor.attacks import FGSMAttack, PGDAttack
from kdiga_mmrazor.models.algorithms.adversarial_objectives import (
    adversarial_examples,
    attack_mode,
    build_training_attack,
    check_attack_bn,
    check_beta,
    kl_per_sample,
    trades_kl,
)

from ...conftest import TinyConvNet

EPS = 8 / 255


class Linear2(nn.Module):
    """Two-class linear model on 3×2×2 images: z = W·vec(x) + b."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc = nn.Linear(12, 2)

    def forward(self, x):
        return self.fc(x.flatten(1))


def _images(n=6, shape=(3, 2, 2), seed=3):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *shape, generator=gen)
    x[0, 0] = 0.0  # pixels on the cube's faces: the clip matters
    x[1, 1] = 1.0
    return x


# -- build-time checks ----------------------------------------------------
@pytest.mark.parametrize('method, kind, eps, alpha, steps', [
    ('pgd_at', PGDAttack, EPS, 2 / 255, 10),
    ('trades', PGDAttack, EPS, 2 / 255, 10),
    ('fgsm_rs', FGSMAttack, EPS, 1.25 * EPS, None),
])
def test_default_attack_of_each_method(method, kind, eps, alpha, steps):
    attack = build_training_attack(method, None)
    assert type(attack) is kind
    assert attack.eps == pytest.approx(eps)
    assert attack.alpha == pytest.approx(alpha)
    assert attack.random_start
    if steps is not None:
        assert attack.steps == steps


@pytest.mark.parametrize('method, cfg, match', [
    ('pgd', None, r"model.method must be one of \('pgd_at'"),
    ('pgd_at', dict(type='FGSMAttack', eps=EPS), "method='fgsm_rs'"),
    ('trades', dict(type='AutoAttack', eps=EPS), "type='PGDAttack'"),
    ('pgd_at', dict(type='PGDAttack', eps=EPS, restarts=2,
                    random_start=True), 'set restarts=1'),
    ('trades', dict(type='PGDAttack', eps=EPS, loss='cw'),
     "remove model.attack.loss='cw'"),
    ('trades', dict(type='PGDAttack', eps=EPS, random_start=False),
     'zero gradient'),
    ('fgsm_rs', dict(type='FGSMAttack', eps=EPS), 'random_start=True'),
    ('fgsm_rs', dict(type='PGDAttack', eps=EPS), 'random_start=True'),
    ('pgd_at', dict(type='PGDAttack', eps=2 / 255, alpha=8 / 255),
     r'model.attack.alpha=0.031373 .* exceeds model.attack.eps=0.0078431 '
     r'.* swapped'),
    ('trades', dict(type='PGDAttack', eps=2 / 255, alpha=8 / 255),
     'swapped'),
    ('pgd_at', dict(type='PGDAttack', eps=8), r'model.attack: PGDAttack: '
     r'eps=8 is not in the \[0, 1\] pixel scale'),
])
def test_attacks_a_method_cannot_train_with_are_refused(method, cfg, match):
    with pytest.raises(ValueError, match=match):
        build_training_attack(method, cfg)


def test_beta_is_trades_only_and_finite():
    assert check_beta('trades', None) == 6.0
    assert check_beta('trades', 1) == 1.0
    assert check_beta('pgd_at', None) is None
    with pytest.raises(ValueError, match='remove model.beta'):
        check_beta('pgd_at', 6.0)
    for bad in (float('nan'), float('inf'), -1.0, True, '6'):
        with pytest.raises(ValueError, match='model.beta must be'):
            check_beta('trades', bad)


def test_attack_bn_choices():
    assert check_attack_bn('train') == 'train'
    with pytest.raises(ValueError, match="model.attack_bn must be one of"):
        check_attack_bn('frozen')


# -- the model during the attack -------------------------------------------
def _bn_state(net):
    return {k: v.clone() for k, v in net.bn.state_dict().items()}


@pytest.mark.parametrize('bn, training_inside, keeps_stats', [
    ('eval', False, True),
    ('train', True, True),
    ('train_update', True, False),
])
def test_attack_mode(tiny_net, bn, training_inside, keeps_stats):
    tiny_net.train()
    tiny_net.fc.weight.requires_grad_(False)  # a frozen layer stays so
    before = _bn_state(tiny_net)
    with attack_mode(tiny_net, bn):
        assert tiny_net.bn.training is training_inside
        assert tiny_net.drop.training is training_inside
        assert not any(p.requires_grad for p in tiny_net.parameters())
        tiny_net(torch.rand(4, 3, 8, 8) * 3)
    assert all(m.training for m in tiny_net.modules())
    assert tiny_net.conv.weight.requires_grad
    assert not tiny_net.fc.weight.requires_grad
    after = _bn_state(tiny_net)
    same = all(torch.equal(after[k], before[k]) for k in before)
    assert same is keeps_stats
    if not keeps_stats:
        assert after['num_batches_tracked'] == 1


def test_attack_mode_restores_on_error(tiny_net):
    tiny_net.train()
    before = _bn_state(tiny_net)
    with pytest.raises(RuntimeError):
        with attack_mode(tiny_net, 'train'):
            tiny_net(torch.rand(4, 3, 8, 8))
            raise RuntimeError
    assert all(p.requires_grad for p in tiny_net.parameters())
    assert all(torch.equal(v, before[k])
               for k, v in _bn_state(tiny_net).items())


# -- KL ----------------------------------------------------------------------
def test_kl_by_hand():
    # p = (1/2, 1/2), q = (3/4, 1/4): KL = ½ ln(2/3) + ½ ln 2 = ½ ln(4/3)
    z = torch.zeros(1, 2)
    z_adv = torch.tensor([[math.log(3.0), 0.0]])
    expected = 0.5 * math.log(4 / 3)
    assert kl_per_sample(F.softmax(z, 1), z_adv).item() == pytest.approx(
        expected, rel=1e-6)
    # batch mean: a second, identical pair (KL 0) halves it
    z2 = torch.cat([z, z])
    z2_adv = torch.cat([z_adv, z])
    assert trades_kl(z2, z2_adv).item() == pytest.approx(expected / 2,
                                                         rel=1e-6)


def test_trades_kl_has_gradient_through_both_sides():
    z = torch.tensor([[0.3, -0.2, 0.1]], requires_grad=True)
    z_adv = torch.tensor([[0.0, 0.5, -0.4]], requires_grad=True)
    trades_kl(z, z_adv).backward()
    assert z.grad.abs().sum() > 1e-3 and z_adv.grad.abs().sum() > 1e-3


# -- inner maximisations ------------------------------------------------------
def _corner(model, x, y, eps):
    """Closed form for a two-class linear model: ∇ₓCE = p_other·(w_other −
    w_y) keeps its sign, so PGD with α·T ≥ 2ε ends at the corner
    clip(x + ε·sign(w_other − w_y))."""
    w = model.fc.weight.detach()
    direction = torch.sign(w[1 - y] - w[y]).view(x.shape)
    return (x + eps * direction).clamp(0, 1)


@pytest.mark.parametrize('random_start', [False, True])
def test_pgd_at_reaches_the_closed_form_corner(random_start):
    model = Linear2().eval()
    x = _images()
    y = torch.tensor([0, 1, 0, 1, 1, 0])
    attack = build_training_attack('pgd_at', dict(
        type='PGDAttack', eps=0.1, alpha=0.05, steps=5,
        random_start=random_start))
    torch.manual_seed(0)
    x_adv = adversarial_examples('pgd_at', model, x, y, attack)
    expected = torch.stack(
        [_corner(model, x[i], int(y[i]), 0.1) for i in range(len(y))])
    torch.testing.assert_close(x_adv, expected)


def test_fgsm_rs_is_one_step_from_a_uniform_start():
    model = Linear2().eval()
    x, y = _images(), torch.tensor([0, 1, 0, 1, 1, 0])
    attack = build_training_attack('fgsm_rs', dict(
        type='FGSMAttack', eps=0.1, random_start=True))
    torch.manual_seed(5)
    x_adv = adversarial_examples('fgsm_rs', model, x, y, attack)
    # fast_adversarial's loop: δ ~ U(−ε, ε) clamped into the image, one
    # step of α = 1.25ε, δ clipped to [−ε, ε] and into the image
    torch.manual_seed(5)
    delta = (torch.rand(x.shape) * 2 - 1) * 0.1
    delta = delta.clamp(-x, 1 - x)
    w = model.fc.weight.detach()
    sign = torch.sign(w[1 - y] - w[y]).view_as(x)
    delta = (delta + 0.125 * sign).clamp(-0.1, 0.1)
    expected = (x + delta).clamp(0, 1)
    torch.testing.assert_close(x_adv, expected)


def test_trades_follows_the_reference_loop():
    model = TinyConvNet().eval()
    x = _images(4, (3, 8, 8))
    attack = build_training_attack('trades', None)
    torch.manual_seed(7)
    x_adv = adversarial_examples('trades', model, x, torch.zeros(4).long(),
                                 attack)
    # yaodongyu/TRADES trades_loss, l_inf branch (start clipped to [0, 1])
    torch.manual_seed(7)
    ref = (x + 0.001 * torch.randn(x.shape)).clamp(0, 1)
    with torch.no_grad():
        p = F.softmax(model(x), dim=1)
    for _ in range(10):
        ref.requires_grad_()
        kl = F.kl_div(F.log_softmax(model(ref), dim=1), p, reduction='sum')
        grad, = torch.autograd.grad(kl, [ref])
        ref = ref.detach() + 2 / 255 * torch.sign(grad)
        ref = torch.min(torch.max(ref, x - EPS), x + EPS).clamp(0, 1)
    torch.testing.assert_close(x_adv, ref)


def _objective(method, model, x, x_adv, y):
    with torch.no_grad():
        if method == 'trades':
            p = F.softmax(model(x), 1)
            return kl_per_sample(p, model(x_adv))
        return F.cross_entropy(model(x_adv), y, reduction='none')


@pytest.mark.parametrize('method', ['pgd_at', 'trades', 'fgsm_rs'])
def test_inner_maximisation_ascends_and_stays_in_the_ball(method):
    model = TinyConvNet().eval()
    x = _images(8, (3, 8, 8))
    y = torch.arange(8) % 3
    attack = build_training_attack(method, None)
    torch.manual_seed(1)
    x_adv = adversarial_examples(method, model, x, y, attack)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (x_adv - x).abs().max() <= EPS + 1e-6
    assert (x_adv - x).abs().max() >= EPS - 1e-6  # it went to the rim
    start = _objective(method, model, x, x, y)
    if method == 'trades':  # KL(p ‖ p) = 0 at x: compare with its start
        torch.manual_seed(1)
        start = _objective(method, model, x, (
            x + 0.001 * torch.randn(x.shape)).clamp(0, 1), y)
    end = _objective(method, model, x, x_adv, y)
    margin = 1e-4 if method == 'trades' else 1e-2  # KL starts at ~1e-7
    assert (end > start + margin).all(), (start, end)

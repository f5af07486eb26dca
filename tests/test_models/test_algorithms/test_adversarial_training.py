"""AdversarialTraining: each method's loss against the reference codes'
loops written out, BatchNorm statistics, pixel space and normalisation,
predict/tensor modes and a robust evaluation of the trained classifier."""
import copy
import logging

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmrazor.registry import MODELS

from kdiga_mmrazor.attacks import build_attack
from kdiga_mmrazor.evaluation import RobustEvaluator
from kdiga_mmrazor.utils import as_pixel_classifier

from ...conftest import data_samples, toy_classifier

MEAN, STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]
EPS, ALPHA, STEPS = 8 / 255, 2 / 255, 4
ATTACKS = dict(
    pgd_at=dict(type='PGDAttack', eps=EPS, alpha=ALPHA, steps=STEPS),
    trades=dict(type='PGDAttack', eps=EPS, alpha=ALPHA, steps=STEPS),
    fgsm_rs=dict(type='FGSMAttack', eps=EPS, random_start=True))


def build(method='pgd_at', architecture=None, **kwargs):
    kwargs.setdefault('attack', ATTACKS.get(method))
    torch.manual_seed(0)
    model = MODELS.build(
        dict(_scope_='mmrazor', type='AdversarialTraining', method=method,
             architecture=architecture
             or toy_classifier(MEAN, STD, batch_norm=True), **kwargs))
    model.init_weights()
    model.train()
    return model


def batch(n=4, seed=1):
    """uint8 images (as a dataloader gives them), their [0, 1] pixels and
    data samples."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 8, 8), generator=gen,
                           dtype=torch.uint8)
    samples = data_samples(torch.arange(n) % 3)
    return images, images.float() / 255, samples


def _pixels(model, x):
    """The classifier on pixels, written out: (255·x − μ)/σ."""
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return model.architecture((x * 255 - mean) / std, mode='tensor')


def reference_x_adv(method, model, x, y, seed):
    """The inner maximisation as the reference codes write it (Madry-style
    PGD from U(−ε, ε); TRADES' loop from x + 0.001·randn; fast_adversarial's
    FGSM), on an eval-mode copy."""
    net = copy.deepcopy(model).eval()
    torch.manual_seed(seed)
    if method == 'trades':
        x_adv = (x + 0.001 * torch.randn(x.shape)).clamp(0, 1)
        with torch.no_grad():
            p = F.softmax(_pixels(net, x), 1)

        def objective(z):
            return F.kl_div(F.log_softmax(z, 1), p, reduction='sum')
    else:
        x_adv = (x + (torch.rand(x.shape) * 2 - 1) * EPS).clamp(0, 1)

        def objective(z):
            return F.cross_entropy(z, y)
    alpha, steps = (1.25 * EPS, 1) if method == 'fgsm_rs' else (ALPHA,
                                                                 STEPS)
    for _ in range(steps):
        x_adv.requires_grad_()
        grad, = torch.autograd.grad(objective(_pixels(net, x_adv)), x_adv)
        x_adv = x_adv.detach() + alpha * grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - EPS), x + EPS).clamp(0, 1)
    return x_adv


def reference_losses(method, model, x, y, seed, beta=6.0):
    """The outer loss on a train-mode copy: CE(f(x'), y) for PGD-AT and
    FGSM-RS; CE(f(x), y) + β·(1/B)·KL_sum(f(x) ‖ f(x')) for TRADES."""
    x_adv = reference_x_adv(method, model, x, y, seed)
    net = copy.deepcopy(model).train()
    if method != 'trades':
        return {'adv.loss': F.cross_entropy(_pixels(net, x_adv), y)}, net
    z, z_adv = _pixels(net, x), _pixels(net, x_adv)
    kl = F.kl_div(F.log_softmax(z_adv, 1), F.softmax(z, 1),
                  reduction='sum') / len(x)
    return {'natural.loss': F.cross_entropy(z, y),
            'robust.loss_kl': beta * kl}, net


@pytest.mark.parametrize('method', ['pgd_at', 'trades', 'fgsm_rs'])
def test_loss_and_sgd_step_match_the_reference(method):
    model = build(method)
    images, x, samples = batch()
    y = torch.arange(4) % 3
    expected, net = reference_losses(method, model, x, y, seed=3)
    params = list(net.architecture.parameters())
    grads = torch.autograd.grad(sum(expected.values()), params)
    before = [p.detach().clone() for p in model.architecture.parameters()]
    lr = 0.1
    optim = OptimWrapper(
        torch.optim.SGD(model.architecture.parameters(), lr=lr))
    torch.manual_seed(3)
    log = model.train_step(dict(inputs=list(images), data_samples=samples),
                           optim)
    assert set(log) == set(expected) | {'loss'}
    for key, value in expected.items():
        torch.testing.assert_close(log[key], value.detach(), msg=key)
    assert log['loss'] > 0.5
    if method == 'trades':
        assert log['robust.loss_kl'] > 1e-6
    for b, p, g in zip(before, model.architecture.parameters(), grads):
        torch.testing.assert_close(p.detach(), b - lr * g)
    assert any(g.abs().sum() > 0 for g in grads)


def test_beta_scales_the_kl_term():
    images, x, samples = batch()
    torch.manual_seed(3)
    one = build('trades', beta=1.0).loss(x, samples)
    torch.manual_seed(3)
    six = build('trades').loss(x, samples)
    torch.testing.assert_close(six['robust.loss_kl'],
                               6 * one['robust.loss_kl'])
    torch.testing.assert_close(six['natural.loss'], one['natural.loss'])


# -- BatchNorm ----------------------------------------------------------
def _record_forwards(model):
    """(pixels, BatchNorm in train mode?) of every forward."""
    seen = []
    bn = model.architecture.backbone.bn
    model._normalize.register_forward_pre_hook(
        lambda _, args: seen.append((args[0].detach().clone(), bn.training)))
    return seen


def _stats(model):
    return {k: v.clone()
            for k, v in model.architecture.backbone.bn.state_dict().items()}


def _stats_after_train_forwards(initial, inputs):
    twin = copy.deepcopy(initial).train()
    with torch.no_grad():
        for x in inputs:
            twin.pixel_classifier()(x)
    return _stats(twin)


def _assert_stats_equal(a, b):
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


@pytest.mark.parametrize('method, outer', [('pgd_at', 1), ('trades', 2),
                                           ('fgsm_rs', 1)])
@pytest.mark.parametrize('attack_bn', ['eval', 'train'])
def test_running_statistics_move_only_with_the_outer_forwards(
        method, outer, attack_bn):
    model = build(method, attack_bn=attack_bn)
    initial = copy.deepcopy(model)
    seen = _record_forwards(model)
    _, x, samples = batch()
    model.loss(x, samples)
    attack_steps = 1 if method == 'fgsm_rs' else STEPS
    inner = attack_steps + (method == 'trades')  # TRADES' f(x) target
    assert len(seen) == inner + outer
    # the attack's forwards: eval mode by default, train mode if asked
    assert [t for _, t in seen[:inner]] == [attack_bn == 'train'] * inner
    assert all(t for _, t in seen[inner:])
    outer_inputs = [s for s, _ in seen[inner:]]
    if method == 'trades':
        torch.testing.assert_close(outer_inputs[0], x)  # x, then x'
    assert (outer_inputs[-1] - x).abs().max() > EPS / 2  # x' is attacked
    after = _stats(model)
    _assert_stats_equal(after,
                        _stats_after_train_forwards(initial, outer_inputs))
    assert after['num_batches_tracked'] == outer
    everything = _stats_after_train_forwards(initial, [s for s, _ in seen])
    assert not torch.allclose(after['running_mean'],
                              everything['running_mean'])


def test_train_update_lets_the_attack_move_the_statistics():
    model = build('pgd_at', attack_bn='train_update')
    initial = copy.deepcopy(model)
    seen = _record_forwards(model)
    _, x, samples = batch()
    model.loss(x, samples)
    assert all(t for _, t in seen) and len(seen) == STEPS + 1
    _assert_stats_equal(
        _stats(model),
        _stats_after_train_forwards(initial, [s for s, _ in seen]))


def test_the_attack_leaves_parameters_and_their_gradients_alone():
    model = build('pgd_at')
    _, x, samples = batch()
    state = copy.deepcopy(model.state_dict())
    model.adversarial_examples(x, torch.arange(4) % 3)
    assert all(p.grad is None for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert all(m.training for m in model.architecture.modules())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key])


# -- pixel space, normalisation, modes -------------------------------------
def test_algorithm_preprocessor_only_scales_and_model_normalises():
    model = build()
    dp = model.data_preprocessor
    assert dp.mean.flatten().tolist() == [0, 0, 0]
    assert dp.std.flatten().tolist() == [255, 255, 255]
    _, x, _ = batch()
    model.eval()
    torch.testing.assert_close(model(x, mode='tensor'), _pixels(model, x))
    assert as_pixel_classifier(model).normalize is model._normalize


def test_stock_classifier_takes_the_top_level_normalisation(mmengine_log):
    arch = toy_classifier(batch_norm=True)
    del arch['data_preprocessor']  # a stock config states it at top level
    model = build(architecture=arch,
                  data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor',
                                         mean=MEAN, std=STD))
    assert model.data_preprocessor.std.flatten().tolist() == [255] * 3
    _, x, _ = batch()
    model.eval()
    torch.testing.assert_close(model(x, mode='tensor'), _pixels(model, x))
    assert any('AdversarialTraining: model.architecture states no '
               'data_preprocessor' in m for m in mmengine_log.messages())


def test_no_normalisation_anywhere_is_refused():
    arch = toy_classifier()
    del arch['data_preprocessor']
    with pytest.raises(ValueError,
                       match='model.architecture.data_preprocessor='):
        build(architecture=arch)


def test_predict_mode_gives_the_pixel_classifier_argmax():
    model = build()
    model.eval()
    _, x, samples = batch(8)
    out = model(x, samples, mode='predict')
    labels = torch.cat([o.pred_label for o in out])
    assert torch.equal(labels, model.pixel_classifier()(x).argmax(1))


def test_pixels_outside_the_unit_cube_are_refused():
    model = build()
    _, x, samples = batch()
    with pytest.raises(ValueError, match='model.data_preprocessor must be'):
        model.loss(x * 255, samples)


class _Headless(BaseModel):

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


@pytest.mark.parametrize('kwargs, kind, match', [
    (dict(method='madry'), ValueError, 'model.method must be one of'),
    (dict(method='pgd_at', beta=6.0), ValueError, 'remove model.beta'),
    (dict(attack_bn='none'), ValueError, 'model.attack_bn must be'),
    (dict(attack=dict(type='PGDAttack', eps=8)), ValueError,
     'model.attack: PGDAttack: eps=8'),
    (dict(architecture=_Headless()), TypeError, 'has no head._get_loss'),
])
def test_build_errors_name_the_key(kwargs, kind, match):
    kwargs.setdefault('attack', None)
    with pytest.raises(kind, match=match):
        build(**kwargs)


def test_teacher_member_is_refused():
    with pytest.raises(ValueError, match='evaluate_teacher=False'):
        as_pixel_classifier(build(), 'teacher')


# -- robust evaluation -----------------------------------------------------
def test_robust_evaluator_evaluates_the_trained_classifier():
    model = build()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    images, _, samples = batch(12)
    for _ in range(5):  # a few steps, so that the classifier is not random
        model.train_step(dict(inputs=list(images), data_samples=samples),
                         optim)
    model.eval()
    _, x, _ = batch(24, seed=2)  # held out: some right, some wrong
    y = torch.arange(24) % 3
    attack_cfg = dict(type='PGDAttack', eps=EPS, steps=5)
    evaluator = RobustEvaluator([attack_cfg], sanity_checks=False)
    evaluator.start(*evaluator.members_of(model))
    evaluator.process(x, y, list(range(24)))
    metrics = evaluator.compute(size=24)
    classifier = model.pixel_classifier()
    with torch.no_grad():
        clean = classifier(x).argmax(1) == y
    x_adv = build_attack(attack_cfg, 'test')(classifier, x[clean], y[clean])
    with torch.no_grad():
        robust = classifier(x_adv).argmax(1) == y[clean]
    assert 0 < clean.sum() < 24 and 0 < robust.sum() < clean.sum()
    assert metrics['robust/clean_acc'] == pytest.approx(
        100 * clean.float().mean().item())
    assert metrics['robust/pgd5_linf_8/acc'] == pytest.approx(
        100 * robust.sum().item() / 24)
    assert all(m.training is False for m in model.modules())


def test_training_logs_no_warning(mmengine_log):
    model = build('trades')
    _, x, samples = batch()
    model.loss(x, samples)
    assert mmengine_log.messages(logging.WARNING) == []

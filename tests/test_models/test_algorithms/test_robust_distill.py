"""RobustDistill: each inner maximisation, each objective written out by
hand, the student's BatchNorm while it attacks, IGDM, KDIGA + ARD, build
errors."""
import copy
import logging
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmrazor.registry import MODELS

from kdiga_mmrazor.models.algorithms.robust_distill import METHOD_DEFAULTS

from ...conftest import REPO, data_samples, toy_classifier

EPS, STEP, STEPS = 0.1, 0.03, 5
ATTACK = dict(type='PGDAttack', eps=EPS, alpha=STEP, steps=STEPS,
              random_start=False)
METHODS = ('ard', 'rslad', 'iad', 'adaad')


def build(method='ard', student=None, teacher=None, **kwargs):
    kwargs.setdefault('attack', ATTACK)
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='RobustDistill',
            method=method,
            architecture=student or toy_classifier(),
            teacher=teacher or toy_classifier(),
            distiller=kwargs.pop('distiller', dict(type='KDIGADistiller')),
            **kwargs))
    model.init_weights()
    model.train()
    return model


def batch(n=6, seed=1):
    gen = torch.Generator().manual_seed(seed)
    x = 0.1 + 0.8 * torch.rand(n, 3, 8, 8, generator=gen)
    return x, data_samples(torch.arange(n) % 3)


def labels(samples):
    return torch.cat([s.gt_label for s in samples])


def kl_rows(p_logits, q_logits, tau=1.0):
    """τ²·Σ_c p (log p − log q), p = softmax(p_logits/τ), written out (in
    float64, then back)."""
    dtype = q_logits.dtype
    p_logits, q_logits = p_logits.double(), q_logits.double()
    p = F.softmax(p_logits / tau, dim=1)
    return (tau**2 * (p * (p.log() - F.log_softmax(q_logits / tau, dim=1))
                      ).sum(dim=1)).to(dtype)


def objective(method, model, x_adv, x, y):
    """The method's inner objective per sample, by hand."""
    student = model.pixel_classifier('student')
    teacher = model.pixel_classifier('teacher')
    if method in ('ard', 'iad'):
        return F.cross_entropy(student(x_adv), y, reduction='none')
    if method == 'rslad':
        return kl_rows(teacher(x).detach(), student(x_adv))
    return kl_rows(teacher(x_adv), student(x_adv))


def reference_pgd(f, x, eps=EPS, step=STEP, steps=STEPS):
    """Signed ascent of sum f from x, clipped to the ε-ball and [0, 1]."""
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (g, ) = torch.autograd.grad(f(x_adv).sum(), x_adv)
        x_adv = torch.min(torch.max(x_adv.detach() + step * g.sign(),
                                    x - eps), x + eps).clamp(0, 1)
    return x_adv.detach()


@pytest.fixture
def runner_iter():
    """Set the runner's ``iter``/``max_iters`` in the message hub; restored
    after the test."""
    hub = MessageHub.get_current_instance()
    saved = {k: hub.get_info(k) for k in ('iter', 'max_iters')}

    def set_iter(iteration, max_iters=None):
        hub.update_info('iter', iteration)
        if max_iters is not None:
            hub.update_info('max_iters', max_iters)

    yield set_iter
    for key, value in saved.items():
        if value is None:
            hub.pop_info(key)
        else:
            hub.update_info(key, value)


@pytest.mark.parametrize('method', METHODS)
def test_inner_maximization_ascends_its_objective_in_the_ball(method):
    model = build(method, student=toy_classifier(batch_norm=True))
    x, samples = batch()
    y = labels(samples)
    z_t = model.pixel_classifier('teacher')(x).detach()
    x_adv = model.inner_maximization(x, y, z_t)
    assert (x_adv - x).abs().max() <= EPS + 1e-6
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (x_adv - x).abs().max() > EPS / 2  # it moved
    model.architecture.eval()  # the objective as the attack saw it
    with torch.no_grad():
        before = objective(method, model, x, x, y).sum()
        after = objective(method, model, x_adv, x, y).sum()
    assert after > before + 1e-3, (before, after)
    expected = reference_pgd(lambda xa: objective(method, model, xa, x, y), x)
    torch.testing.assert_close(x_adv, expected)


@pytest.mark.parametrize('method', METHODS)
def test_attack_in_eval_mode_leaves_batchnorm_statistics_alone(method):
    model = build(method, student=toy_classifier(batch_norm=True))
    bn = model.architecture.backbone.bn
    x, samples = batch()
    stats = copy.deepcopy(bn.state_dict())
    model.inner_maximization(x, labels(samples),
                             model.pixel_classifier('teacher')(x).detach())
    for key, value in bn.state_dict().items():
        torch.testing.assert_close(value, stats[key], msg=key)
    assert model.architecture.training and bn.training
    assert all(p.requires_grad for p in model.architecture.parameters())
    # the outer forwards S(x) and S(x') run in train mode: two updates
    model.loss(x, samples)
    assert bn.num_batches_tracked.item() == stats[
        'num_batches_tracked'].item() + 2
    assert not torch.allclose(bn.running_mean, stats['running_mean'])


def test_attack_bn_train_uses_batch_statistics_and_restores_them():
    x, samples = batch()
    y = labels(samples)
    results = {}
    for mode in ('eval', 'train', 'train_update'):
        model = build(student=toy_classifier(batch_norm=True),
                      attack_bn=mode)
        bn = model.architecture.backbone.bn
        stats = copy.deepcopy(bn.state_dict())
        results[mode] = model.inner_maximization(x, y, None)
        tracked = bn.num_batches_tracked.item()
        if mode == 'train_update':
            assert tracked == stats['num_batches_tracked'].item() + STEPS
        else:
            assert tracked == stats['num_batches_tracked'].item()
            torch.testing.assert_close(bn.running_mean,
                                       stats['running_mean'])
        if mode == 'train':
            model.architecture.train()
            expected = reference_pgd(
                lambda xa: objective('ard', model, xa, x, y), x)
            torch.testing.assert_close(results[mode], expected)
    assert not torch.allclose(results['eval'], results['train'])
    torch.testing.assert_close(results['train'], results['train_update'])


def _outer(model, x, x_adv):
    student = model.pixel_classifier('student')
    teacher = model.pixel_classifier('teacher')
    with torch.no_grad():
        z_t, z_ta = teacher(x), teacher(x_adv)
    return z_t, z_ta, student(x), student(x_adv)


@pytest.mark.parametrize('method,alpha,tau,reduction', [
    ('ard', 0.7, 4.0, 'batchmean'),
    ('ard', 1.0, 30.0, 'mean'),
    ('rslad', None, None, 'batchmean'),
    ('iad', 0.8, 2.0, 'batchmean'),
    ('adaad', 0.6, 1.0, 'batchmean'),
    ('adaad', 0.6, 1.0, 'mean'),
])
def test_losses_equal_the_objective_written_out(method, alpha, tau,
                                                reduction, runner_iter):
    runner_iter(10)  # past IAD's warm-up below
    model = build(method, alpha=alpha, tau=tau, kl_reduction=reduction,
                  iad_beta=0.5, iad_warmup_iters=5)
    x, samples = batch()
    y = labels(samples)
    losses = model.loss(x, samples)
    alpha = METHOD_DEFAULTS[method]['alpha'] if alpha is None else alpha
    tau = METHOD_DEFAULTS[method]['tau'] if tau is None else tau
    per = 3.0 if reduction == 'mean' else 1.0  # element mean over C = 3
    x_adv = reference_pgd(lambda xa: objective(method, model, xa, x, y), x)
    z_t, z_ta, z_s, z_adv = _outer(model, x, x_adv)
    expected = {}
    if method in ('ard', 'iad'):
        expected['student.loss'] = (1 - alpha) * F.cross_entropy(z_s, y)
        expected['distill.loss_adv'] = alpha * kl_rows(
            z_t, z_adv, tau).mean() / per
    if method == 'iad':
        w = F.softmax(z_ta, dim=1)[torch.arange(len(y)), y]**0.5
        expected['distill.loss_self'] = alpha * (
            (1 - w) * kl_rows(z_s, z_adv)).mean() / per
        expected['distill.iad_reliability'] = w.mean()
    if method == 'rslad':
        expected['distill.loss_adv'] = alpha * kl_rows(z_t, z_adv).mean()
        expected['distill.loss_nat'] = (1 - alpha) * kl_rows(z_t, z_s).mean()
    if method == 'adaad':
        expected['distill.loss_adv'] = alpha * kl_rows(
            z_ta, z_adv).mean() / per
        expected['distill.loss_nat'] = (1 - alpha) * kl_rows(
            z_t, z_s).mean() / per
    assert set(losses) == set(expected)
    # at τ = 30 both float32 KLs cancel to ~1e-3 relative error
    rtol = 1e-3 if tau > 10 else 1.3e-6
    for key, value in expected.items():
        assert value.abs() > 0 or alpha == 1, key
        torch.testing.assert_close(losses[key], value.detach(), rtol=rtol,
                                   atol=1e-6, msg=key)


def test_rslad_defaults_weigh_adversarial_and_clean_kl_five_to_one():
    model = build('rslad')
    assert model.alpha == pytest.approx(5 / 6) and model.tau == 1.0
    assert not model.calculate_student_loss
    assert build('ard').tau == 30.0 and build('ard').alpha == 1.0


def test_iad_self_term_starts_after_the_warm_up(runner_iter):
    model = build('iad', iad_warmup_iters=5)
    x, samples = batch()
    runner_iter(4)
    assert 'distill.loss_self' not in model.loss(x, samples)
    runner_iter(5)
    assert model.loss(x, samples)['distill.loss_self'] > 0


@pytest.mark.parametrize('ramp_iters,ramp', [(None, 0.1), (0, 1.0),
                                              (40, 0.25)])
def test_igdm_term_on_the_method_perturbation(runner_iter, ramp_iters,
                                              ramp):
    runner_iter(9, max_iters=100)
    model = build('ard', igdm_weight=2.0, igdm_ramp_iters=ramp_iters)
    x, samples = batch()
    y = labels(samples)
    losses = model.loss(x, samples)
    x_adv = reference_pgd(lambda xa: objective('ard', model, xa, x, y), x)
    x_minus = x - (x_adv - x)
    student = model.pixel_classifier('student')
    teacher = model.pixel_classifier('teacher')
    with torch.no_grad():
        t_diff = teacher(x_adv) - teacher(x_minus)
    s_diff = student(x_adv) - student(x_minus)
    expected = 2.0 * ramp * kl_rows(t_diff, s_diff).mean()
    torch.testing.assert_close(losses['distill.loss_igdm'], expected)
    torch.testing.assert_close(losses['distill.igdm_ramp'],
                               torch.tensor(ramp))
    model.zero_grad()
    losses['distill.loss_igdm'].backward()
    assert model.architecture.backbone.fc1.weight.grad.abs().sum() > 0


def test_kdiga_ard_adds_the_alignment_on_the_clean_batch():
    distiller = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'robust_distill',
                 'kdiga_ard.py')).kdiga_ard_distiller.to_dict()
    model = build('ard', alpha=0.5, tau=1.0, distiller=distiller)
    x, samples = batch()
    y = labels(samples)
    losses = model.loss(x, samples)
    grads = []
    for member in ('teacher', 'student'):
        x_m = x.clone().requires_grad_(True)
        ce = F.cross_entropy(model.pixel_classifier(member)(x_m), y,
                             reduction='sum')
        grads.append(torch.autograd.grad(ce, x_m)[0])
    expected = 0.1 * (grads[1] - grads[0]).flatten(1).norm(dim=1).mean()
    torch.testing.assert_close(losses['distill.loss_iga'], expected)
    x_adv = reference_pgd(lambda xa: objective('ard', model, xa, x, y), x)
    z_t, _, z_s, z_adv = _outer(model, x, x_adv)
    torch.testing.assert_close(losses['distill.loss_adv'],
                               0.5 * kl_rows(z_t, z_adv).mean().detach())
    assert -1 <= losses['distill.iga_cos_sim'] <= 1
    model.zero_grad()
    losses['distill.loss_iga'].backward()  # g_S keeps its graph
    assert model.architecture.backbone.fc1.weight.grad.abs().sum() > 0


def test_train_step_moves_the_student_by_the_written_out_gradient():
    teacher = toy_classifier(batch_norm=True)
    model = build('ard', teacher=teacher, alpha=0.7, tau=4.0)
    x, samples = batch()
    x = (x * 255).round() / 255  # what the uint8 batch below becomes
    y = labels(samples)
    teacher_state = copy.deepcopy(model.teacher.state_dict())
    params = list(model.architecture.parameters())
    before = [p.detach().clone() for p in params]
    x_adv = reference_pgd(lambda xa: objective('ard', model, xa, x, y), x)
    z_t, _, z_s, z_adv = _outer(model, x, x_adv)
    hand = 0.3 * F.cross_entropy(z_s, y) + 0.7 * kl_rows(z_t, z_adv,
                                                        4.0).mean()
    grads = torch.autograd.grad(hand, params)
    lr = 0.1
    optim = OptimWrapper(torch.optim.SGD(model.architecture.parameters(),
                                         lr=lr))
    model.train_step(
        dict(inputs=[(img * 255).round().to(torch.uint8) for img in x],
             data_samples=samples), optim)
    for b, p, g in zip(before, params, grads):
        torch.testing.assert_close(p.detach(), b - lr * g, rtol=1e-4,
                                   atol=1e-6)
    assert any(not torch.equal(b, p) for b, p in zip(before, params))
    assert all(p.grad is None for p in model.teacher.parameters())
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, teacher_state[key], msg=key)
    assert not any(m.training for m in model.teacher.modules())


@pytest.mark.parametrize('method', METHODS)
def test_random_starts(method):
    model = build(method, attack=dict(ATTACK, random_start=True))
    x, _ = batch()
    torch.manual_seed(3)
    delta = model._start(x) - x
    assert delta.abs().max() <= EPS + 1e-6
    if method in ('ard', 'iad'):  # uniform in the ball
        assert delta.abs().max() > 0.9 * EPS
        assert delta.mean().abs() < 0.01
    else:  # x + 0.001·N(0, I)
        assert delta.std().item() == pytest.approx(0.001, rel=0.1)
    model.attack.random_start = False
    assert torch.equal(model._start(x), x)


def test_default_attack_is_the_papers_cifar10_one():
    model = build('adaad', attack=None)
    assert (model.attack.eps, model.attack.alpha, model.attack.steps,
            model.attack.norm) == (8 / 255, 2 / 255, 10, 'linf')
    assert model.attack_bn == 'eval'


@pytest.mark.parametrize('kwargs,match', [
    (dict(method='trades'), 'model.method'),
    (dict(calculate_student_loss=True), 'calculate_student_loss'),
    (dict(attack=dict(type='PGDAttack', eps=2 / 255, alpha=8 / 255)),
     'swapped'),
    (dict(attack=dict(type='FGSMAttack', eps=2 / 255)), 'PGDAttack'),
    (dict(attack=dict(type='PGDAttack', eps=8)), 'model.attack: PGDAttack'),
    (dict(attack=dict(type='PGDAttack', eps=0.1, restarts=2)), 'restarts'),
    (dict(method='rslad', attack=dict(type='PGDAttack', eps=0.1,
                                      loss='cw')), 'model.attack.loss'),
    (dict(alpha=1.5), 'model.alpha'),
    (dict(tau=0), 'model.tau'),
    (dict(kl_reduction='sum'), 'model.kl_reduction'),
    (dict(attack_bn='frozen'), 'model.attack_bn'),
    (dict(iad_beta=-1), 'model.iad_beta'),
    (dict(iad_warmup_iters=-1), 'model.iad_warmup_iters'),
    (dict(igdm_weight=-1.0), 'model.igdm_weight'),
    (dict(igdm_ramp_iters=1.5), 'model.igdm_ramp_iters'),
])
def test_build_errors_name_the_key(kwargs, match):
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        build(**kwargs)


def test_shared_messages_name_robust_distill_not_its_base(mmengine_log):
    """What KDIGADistill's code raises or logs for a RobustDistill names
    RobustDistill: the build's teacher warning, batch one's class check."""
    warnings = mmengine_log.view(logging.WARNING,
                                 'no checkpoint loads the teacher')
    model = build(teacher=toy_classifier(num_classes=5))
    assert len(warnings) == 1
    assert warnings[0].startswith('RobustDistill:')
    with pytest.raises(ValueError) as error:
        model.loss(*batch())
    message = str(error.value)
    assert message.startswith('RobustDistill: the student gives 3 classes '
                              'and the teacher 5')
    assert 'KDIGADistill' not in message
    assert 'KDIGADistill' not in warnings[0]


@pytest.mark.parametrize('method', METHODS)
def test_class_mismatch_is_named_before_the_attack_runs(method, monkeypatch):
    """RSLAD's and AdaAD's inner objectives would fail on the logits'
    shapes; every method names the mismatch before an attack step."""
    from kdiga_mmrazor.models.algorithms import robust_distill

    def no_attack(*args, **kwargs):
        raise AssertionError('the attack ran before the class check')

    monkeypatch.setattr(robust_distill, 'pgd', no_attack)
    model = build(method, teacher=toy_classifier(num_classes=5))
    with pytest.raises(ValueError, match='the student gives 3 classes and '
                       'the teacher 5; set num_classes'):
        model.loss(*batch())


def test_early_class_check_leaves_the_step_unchanged():
    """The check's forward (one image, eval mode, no gradients) updates no
    BatchNorm statistic and draws no random number: the losses and the
    running statistics of batch one equal those of a model that skips
    it."""
    def one_step(skip_check):
        model = build('ard', attack=dict(ATTACK, random_start=True),
                      student=toy_classifier(batch_norm=True, dropout=0.5))
        model._classes_checked = skip_check
        torch.manual_seed(3)
        losses = model.loss(*batch())
        stats = [b.clone() for n, b in model.architecture.named_buffers()
                 if 'running' in n]
        return losses, stats

    checked, stats = one_step(False)
    skipped, stats_skipped = one_step(True)
    assert stats and all(torch.equal(a, b)
                         for a, b in zip(stats, stats_skipped))
    assert checked.keys() == skipped.keys()
    for key in checked:
        torch.testing.assert_close(checked[key], skipped[key], rtol=0,
                                   atol=0)


def test_inputs_outside_pixel_range_are_refused_naming_robust_distill():
    x, samples = batch()
    with pytest.raises(ValueError,
                       match=r'^RobustDistill: .*not \[0, 1\] pixels'):
        build().loss(x * 255, samples)

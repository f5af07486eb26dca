"""AutoAttack: equal to pyautoattack's own run, target classes, norms,
channels_last, the re-check, logging, RNG and model left as found."""
import copy
import logging

import pyautoattack
import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from kdiga_mmrazor.attacks import AutoAttack, FGSMAttack, PGDAttack
from kdiga_mmrazor.registry import ATTACKS


def _acc(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def _linear(num_classes: int, size: int = 4) -> nn.Module:
    """A linear model of 3×size×size images."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(),
                         nn.Linear(3 * size * size, num_classes)).eval()


def test_equals_pyautoattack_standard_evaluation(trained_mlp):
    # Same model, subset, seed and (4 classes) 3 target classes: the same
    # images and robust accuracy as calling pyautoattack by hand. (Square
    # gets 500 queries, not 5,000: the rest of the standard budget is run.)
    model, x, y = trained_mlp
    eps = 4 / 255
    ours = ATTACKS.build(
        dict(type='AutoAttack', eps=eps, n_queries=500, seed=0))
    x_ours = ours(model, x, y)
    ref = pyautoattack.AutoAttack(
        model, norm='Linf', eps=eps, version='standard', seed=0,
        device='cpu')
    ref.apgd_targeted.n_target_classes = 3
    ref.fab.n_target_classes = 3
    ref.square.n_queries = 500
    x_ref, y_ref = ref.run_standard_evaluation(x, y, batch_size=8)
    torch.testing.assert_close(x_ours, x_ref, rtol=0, atol=0)
    assert _acc(model, x_ours, y) == (y_ref == y).float().mean().item()
    assert 0 < _acc(model, x_ours, y) < 1  # some broken, some not
    assert ours.settings()['n_target_classes'] == {'apgd-t': 3, 'fab-t': 3}


def test_custom_list_with_budgets_equals_pyautoattack(trained_mlp):
    model, x, y = trained_mlp
    eps = 3 / 255
    ours = AutoAttack(eps=eps, attacks_to_run=['apgd-ce', 'apgd-t'],
                      n_iter=10, seed=1)
    assert ours.name == 'autoattack-apgdce-apgdt-it10_linf_3'
    x_ours = ours(model, x, y)
    ref = pyautoattack.AutoAttack(
        model, norm='Linf', eps=eps, version='custom',
        attacks=['apgd-ce', 'apgd-t'], seed=1, device='cpu')
    for apgd in (ref.apgd, ref.apgd_targeted):  # as APGD's __init__ does
        apgd.n_iter = apgd.n_iter_orig = 10
        apgd.n_iter_2, apgd.n_iter_min, apgd.size_decr = 2, 1, 1
    ref.apgd_targeted.n_target_classes = 3
    x_ref, _ = ref.run_standard_evaluation(x, y, batch_size=8)
    torch.testing.assert_close(x_ours, x_ref, rtol=0, atol=0)


def test_fgsm_pgd_autoattack_accuracies_are_ordered(trained_mlp):
    model, x, y = trained_mlp
    eps = 3 / 255
    accs = [
        _acc(model, attack(model, x, y), y) for attack in (
            FGSMAttack(eps=eps), PGDAttack(eps=eps, steps=20),
            AutoAttack(eps=eps, n_queries=500, verbose=False))
    ]
    assert 1.0 > accs[0] >= accs[1] >= accs[2], accs


@pytest.mark.parametrize('num_classes,norm,eps,targets', [
    (12, 'linf', 8 / 255, {'apgd-t': 9, 'fab-t': 9}),
    (10, 'linf', 8 / 255, {'apgd-t': 9, 'fab-t': 9}),
    (5, 'l2', 0.5, {'apgd-t': 4, 'fab-t': 4}),
    (12, 'l1', 2.0, {'apgd-t': 5, 'fab-t': 9}),  # AutoAttack's L1 standard
])
def test_target_classes(num_classes, norm, eps, targets):
    # 8×8 images: Square's L2/L1 windows need a side of at least 5
    model = _linear(num_classes, size=8)
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    y = model(x).argmax(1).detach()
    attack = AutoAttack(eps=eps, norm=norm, n_iter=2, n_queries=5,
                        verbose=False)
    x_adv = attack(model, x, y)
    assert attack.settings()['n_target_classes'] == targets
    p = {'linf': float('inf'), 'l2': 2, 'l1': 1}[norm]
    size = (x_adv - x).flatten(1).norm(p=p, dim=1)
    assert size.max() <= eps * (1 + 1e-5), size.max().item()
    assert x_adv.min() >= 0 and x_adv.max() <= 1


def test_channels_last_batch_gives_the_contiguous_result(bn_net):
    net = bn_net.eval()
    x = torch.rand(4, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    y = net(x).argmax(1).detach()
    attack = AutoAttack(eps=8 / 255, attacks_to_run=['apgd-ce', 'apgd-t'],
                        n_iter=5, verbose=False)
    x_cl = x.to(memory_format=torch.channels_last)
    assert not x_cl.is_contiguous()
    torch.testing.assert_close(
        attack(net, x_cl, y), attack(net, x, y), rtol=0, atol=0)


class _RandomLogits(nn.Module):
    """Ignores its input: a "randomized defence" whose prediction changes
    between AutoAttack's record and the re-check."""

    def forward(self, x):
        return 10 * torch.randn(x.shape[0], 10) + 0 * x.flatten(1)[:, :10]


def test_predictions_differing_from_autoattack_record_raise():
    x, y = torch.rand(8, 3, 4, 4), torch.arange(8)
    attack = AutoAttack(eps=8 / 255, attacks_to_run=['apgd-ce'], n_iter=2,
                        verbose=False)
    with pytest.raises(RuntimeError, match='predicts differently'):
        attack(_RandomLogits(), x, y)


def test_progress_goes_to_mmengine_logger(trained_mlp):
    model, x, y = trained_mlp
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_instance('test_autoattack_log')
    logger.addHandler(handler)
    try:
        AutoAttack(eps=4 / 255, attacks_to_run=['apgd-ce'],
                   n_iter=5)(model, x, y)
    finally:
        logger.removeHandler(handler)
    messages = [r.getMessage() for r in records]
    assert any(m.startswith('AutoAttack: robust accuracy: ')
               for m in messages), messages
    assert logging.getLogger('auto-attack').handlers == []


def test_leaves_model_and_global_rng_as_found(bn_net, left_as_found):
    x, y = torch.rand(4, 3, 4, 4), torch.tensor([0, 1, 2, 3])
    attack = AutoAttack(eps=8 / 255, n_iter=3, n_queries=10, verbose=False)
    torch.manual_seed(7)
    rng = torch.get_rng_state()
    left_as_found(bn_net, lambda: attack(bn_net, x, y))
    assert torch.equal(torch.get_rng_state(), rng)


def test_names_and_settings():
    assert ATTACKS.build(dict(type='AutoAttack',
                              eps=8 / 255)).name == 'autoattack_linf_8'
    assert AutoAttack(eps=0.5, norm='l2').name == 'autoattack_l2_0.5'
    assert AutoAttack(eps=12, norm='l1').name == 'autoattack_l1_12'
    assert AutoAttack(eps=8 / 255, version='plus').name == \
        'autoattack-plus_linf_8'
    attack = copy.deepcopy(AutoAttack(eps=8 / 255))  # as configs are
    settings = attack.settings()
    assert settings['version'] == 'standard'
    assert settings['attacks_to_run'] == ['apgd-ce', 'apgd-t', 'fab-t',
                                          'square']
    assert settings['n_target_classes'] == {
        'apgd-t': 'min(9, n_classes - 1)',
        'fab-t': 'min(9, n_classes - 1)'
    }
    assert settings['pyautoattack'] == pyautoattack.__version__


@pytest.mark.parametrize('kwargs,match', [
    (dict(eps=8), r'eps=8 .*eps=8 / 255'),
    (dict(eps=8 / 255, norm='l3'), r"norm.*'l3'"),
    (dict(eps=8 / 255, version='rand'), r"version.*'standard'"),
    (dict(eps=8 / 255, attacks_to_run=['pgd']), r"attacks_to_run.*'pgd'"),
    (dict(eps=8 / 255, version='standard', attacks_to_run=['apgd-ce']),
     r"ignored by version='standard'"),
    (dict(eps=8 / 255, n_iter=0), 'n_iter'),
    (dict(eps=8 / 255, n_iter=True), r'^AutoAttack: n_iter must be an int '
     r'>= 1 or None, got True$'),
    (dict(eps=float('nan'), norm='l2'), r'^AutoAttack: eps must be a finite '
     r'number, got nan$'),
    (dict(eps=-1, norm='l1'), r'^AutoAttack: eps must be >= 0, got -1$'),
])
def test_bad_settings_raise_naming_the_key(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AutoAttack(**kwargs)


def test_string_eps_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"^AutoAttack: eps='8/255' is a "
                       r'string; write 8 / 255 as a Python expression in '
                       r'the config, not a string$'):
        ATTACKS.build(dict(type='AutoAttack', eps='8/255'))


class _NoCalls(nn.Module):
    """Fails the test if the model is ever run."""

    def forward(self, x):
        raise AssertionError('the model ran')


@pytest.mark.parametrize('norm, eps, diameter', [('l2', 128, '6.928'),
                                                 ('l1', 255, '48')])
def test_radius_beyond_the_cube_raises_before_the_model_runs(
        norm, eps, diameter):
    attack = AutoAttack(eps=eps, norm=norm, attacks_to_run=['apgd-ce'])
    with pytest.raises(ValueError, match=rf"^AutoAttack 'autoattack-apgdce_"
                       rf"{norm}_{eps}': eps={eps} exceeds {diameter}, the "):
        attack(_NoCalls(), torch.rand(2, 3, 4, 4), torch.tensor([0, 1]))


def test_nan_pixels_raise_before_the_model_runs():
    x = torch.rand(2, 3, 4, 4)
    x[1, 1, 1, 1] = float('nan')
    with pytest.raises(ValueError, match=r"^AutoAttack 'autoattack_linf_8': "
                       r'inputs have 1 non-finite pixels'):
        AutoAttack(eps=8 / 255)(_NoCalls(), x, torch.tensor([0, 1]))


def test_float64_images_equal_the_float32_run(trained_mlp):
    model, x, y = trained_mlp
    attack = AutoAttack(eps=4 / 255, attacks_to_run=['apgd-ce'], n_iter=3,
                        verbose=False)
    x32, x64 = attack(model, x, y), attack(model, x.double(), y)
    assert x64.dtype == torch.float64
    torch.testing.assert_close(x64, x32.double(), rtol=0, atol=1e-7)
    assert (x64 - x.double()).abs().max().item() <= 4 / 255


def test_too_few_classes_raise_at_attack_time():
    model, x = _linear(3), torch.rand(2, 3, 4, 4)
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r'apgd-t needs >= 4 classes'):
        AutoAttack(eps=8 / 255, verbose=False)(model, x, y)
    with pytest.raises(ValueError, match=r'n_target_classes=5.*at most 2'):
        AutoAttack(eps=8 / 255, attacks_to_run=['apgd-ce'],
                   n_target_classes=5, verbose=False)(model, x, y)


def test_final_line_counts_the_images_it_was_given(trained_mlp,
                                                   mmengine_log):
    """The wrapper's own last line: robust images over all images given
    (pyautoattack's "initial accuracy" counts only the correct ones)."""
    model, x, y = trained_mlp
    attack = AutoAttack(eps=4 / 255, attacks_to_run=['apgd-ce'], n_iter=5)
    x_adv = attack(model, x, y)
    with torch.no_grad():
        robust = int((model(x_adv).argmax(1) == y).sum())
    want = (f'{attack.name}: {robust} of {len(y)} images still classified '
            f'correctly ({100 * robust / len(y):.2f}% of the images given')
    assert any(m.startswith(want) for m in mmengine_log.messages()), (
        mmengine_log.messages()[-3:])

"""Each sanity check fires on a toy model built to fail it, once, and stays
silent on a normal model (real Runner, real FGSM/PGD)."""
import logging

import pytest
import torch

from kdiga_mmrazor.evaluation import RobustSanityChecks
from kdiga_mmrazor.registry import ATTACKS

from .conftest import classifier

EPS8 = 8 / 255


@pytest.fixture
def warnings_log(mmengine_log):
    """Warnings MMEngine's loggers emitted (the sanity checks' messages)."""
    return mmengine_log.view(logging.WARNING,
                             contains='Robustness sanity check failed')


def _run(make_runner, backbone, attacks, dataset=None, **loop_kwargs):
    runner = make_runner(
        model=classifier(backbone),
        dataset=dataset,
        test_cfg=dict(type='RobustTestLoop', attacks=attacks, **loop_kwargs))
    metrics = runner.test()
    return metrics, runner.test_loop.robust.sanity.warned


def _checks(warned):
    return {check for check, _ in warned}


def test_normal_model_passes_every_check(make_runner, warnings_log):
    metrics, warned = _run(make_runner, dict(type='LevelBackbone'), [
        dict(type='FGSMAttack', eps=EPS8),
        dict(type='PGDAttack', eps=EPS8, steps=10),
        dict(type='PGDAttack', eps=0.3, steps=10),
    ])
    # shifts of 8/255 < 0.15 (half the level gap) never break it; 0.3 does
    assert metrics['robust/fgsm_linf_8/acc'] == 100.0
    assert metrics['robust/pgd10_linf_8/acc'] == 100.0
    assert metrics['robust/pgd10_linf_0.3/acc'] == 0.0
    assert warned == set() and warnings_log == []


def test_step_function_model_warns_zero_gradients_and_large_eps(
        make_runner, warnings_log):
    metrics, warned = _run(
        make_runner, dict(type='LevelBackbone', quantise=True), [
            dict(type='PGDAttack', eps=EPS8, steps=10),
            dict(type='PGDAttack', eps=0.3, steps=10),
        ])
    # round() has zero gradient everywhere: PGD stays at its random start
    assert metrics['robust/pgd10_linf_0.3/acc'] == 100.0
    assert _checks(warned) == {'zero_gradients', 'large_eps_not_broken'}
    text = '\n'.join(warnings_log)
    # checked on the first batch (4 images), as AutoAttack's checks
    assert '4 of 4 inputs have an input gradient of exactly 0' in text
    assert 'robust/pgd10_linf_0.3/acc = 100.00' in text
    assert 'arXiv:1902.06705' in text and 'autoattack/checks.py' in text
    assert len(warnings_log) == 2  # once each, though 3 batches ran


def test_explicit_check_attack_is_run_reported_and_checked(
        make_runner, warnings_log):
    metrics, warned = _run(
        make_runner,
        dict(type='LevelBackbone', quantise=True), [],
        sanity_checks=dict(
            large_eps_attack=dict(
                type='PGDAttack', eps=10.0, norm='l2', steps=5)))
    assert metrics['robust/pgd5_l2_10/acc'] == 100.0
    assert 'large_eps_not_broken' in _checks(warned)


def test_randomised_model_warns_random_output(make_runner, warnings_log):
    torch.manual_seed(0)
    _, warned = _run(make_runner, dict(type='LevelBackbone', noise=1.0), [])
    assert _checks(warned) == {'random_output'}
    assert 'version="rand"' in warnings_log[0]


def test_pgd_above_fgsm_warns_stronger_attack_weaker(make_runner,
                                                     warnings_log):
    # DeceptiveBackbone: FGSM's single ε step lands past the loss's local
    # maximum and breaks every image; PGD's small steps stop at it
    metrics, warned = _run(
        make_runner,
        dict(type='DeceptiveBackbone'), [
            dict(type='FGSMAttack', eps=EPS8),
            dict(type='PGDAttack', eps=EPS8, steps=20),
        ],
        dataset=dict(type='RobustToyDataset', uniform=128 / 255))
    assert metrics['robust/fgsm_linf_8/acc'] == 0.0
    assert metrics['robust/pgd20_linf_8/acc'] == 100.0
    assert _checks(warned) == {'stronger_attack_weaker'}
    assert ('robust/pgd20_linf_8/acc = 100.00 is above '
            'robust/fgsm_linf_8/acc = 0.00') in warnings_log[0]


def test_accuracy_growing_with_eps_warns_once(warnings_log):
    attacks = [
        ATTACKS.build(dict(type='PGDAttack', eps=eps, steps=10))
        for eps in (2 / 255, 8 / 255)
    ]
    metrics = {
        'robust/pgd10_linf_2/acc': 40.0,
        'robust/pgd10_linf_8/acc': 41.0,  # more than 0.5 points above
    }
    checks = RobustSanityChecks()
    assert checks.check_attack_order(attacks, metrics)
    assert checks.check_attack_order(attacks, metrics)
    assert _checks(checks.warned) == {'accuracy_grows_with_eps'}
    assert len(warnings_log) == 1
    # within the tolerance: silent
    metrics['robust/pgd10_linf_8/acc'] = 40.4
    assert not RobustSanityChecks().check_attack_order(attacks, metrics)


def test_attacks_of_unknown_strength_are_not_compared(warnings_log):
    fgsm = ATTACKS.build(dict(type='FGSMAttack', eps=EPS8))
    custom = ATTACKS.build(
        dict(type='AutoAttack', eps=EPS8, attacks_to_run=['square']))
    metrics = {
        'robust/fgsm_linf_8/acc': 10.0,
        f'robust/{custom.name}/acc': 90.0
    }
    assert not RobustSanityChecks().check_attack_order([fgsm, custom],
                                                       metrics)

"""parse_diagnostics and build_sanity_checks: defaults filled in, unknown
keys and wrong scales refused naming the key and the fix."""
import pytest

from kdiga_mmrazor.attacks import PGDAttack
from kdiga_mmrazor.evaluation.evaluator_options import (
    build_sanity_checks,
    parse_diagnostics,
)
from kdiga_mmrazor.evaluation.sanity_checks import RobustSanityChecks

OWNER = 'RobustEvaluator'


def test_diagnostics_defaults_are_filled_in():
    eps = 8 / 255
    assert parse_diagnostics(dict(eps=eps), OWNER) == dict(
        eps=eps,
        steps=10,
        alpha=2.5 * eps / 10,  # Madry et al.'s step for 10 steps
        seed=0,
        local_linearity=True,
        gradient_alignment=None)


def test_diagnostics_default_alpha_follows_steps():
    eps = 4 / 255
    assert parse_diagnostics(dict(eps=eps, steps=5),
                             OWNER)['alpha'] == 2.5 * eps / 5


def test_diagnostics_given_values_are_kept():
    grads = dict(teacher=True)
    assert parse_diagnostics(
        dict(eps=0.5, steps=3, alpha=0.1, seed=7, local_linearity=False,
             gradient_alignment=grads), OWNER) == dict(
                 eps=0.5, steps=3, alpha=0.1, seed=7,
                 local_linearity=False, gradient_alignment=grads)


@pytest.mark.parametrize('cfg', [None, {}])
def test_diagnostics_off_is_none(cfg):
    assert parse_diagnostics(cfg, OWNER) is None


def test_diagnostics_unknown_keys_are_listed():
    with pytest.raises(ValueError, match=r"^RobustEvaluator: diagnostics has "
                       r"unknown keys \['radius', 'step'\]; accepted: "
                       r"\('eps', 'steps', 'alpha', 'seed', "
                       r"'local_linearity', 'gradient_alignment'\)$"):
        parse_diagnostics(dict(eps=0.1, step=3, radius=1), OWNER)


def test_diagnostics_without_eps_names_the_fix():
    with pytest.raises(ValueError, match=r'diagnostics needs eps.*'
                       r'diagnostics=dict\(eps=8 / 255\)'):
        parse_diagnostics(dict(steps=10), OWNER)


def test_diagnostics_eps_in_255_scale_names_the_fix():
    with pytest.raises(ValueError, match=r'^RobustEvaluator: diagnostics.eps'
                       r'=8 is not in the \[0, 1\] pixel scale of L∞ '
                       r'budgets; pixels are in \[0, 1\]: write '
                       r'diagnostics.eps=8 / 255 \(= 0\.03137\), not '
                       r'diagnostics.eps=8$'):
        parse_diagnostics(dict(eps=8), OWNER)


def test_diagnostics_negative_eps_says_negative_not_255():
    with pytest.raises(ValueError, match=r'^RobustEvaluator: diagnostics.eps'
                       r' must be >= 0, got -0\.1$'):
        parse_diagnostics(dict(eps=-0.1), OWNER)


@pytest.mark.parametrize('key, value, error, match', [
    ('steps', 0, ValueError, r'^RobustEvaluator: diagnostics.steps must be '
     r'an int >= 1, got 0$'),
    ('steps', -3, ValueError, r'diagnostics.steps must be an int >= 1, got '
     r'-3$'),
    ('steps', 2.5, ValueError, r'diagnostics.steps must be an int >= 1, got '
     r'2\.5$'),
    ('steps', True, ValueError, r'diagnostics.steps must be an int >= 1, got '
     r'True$'),
    ('eps', '8/255', TypeError, r"^RobustEvaluator: diagnostics.eps='8/255' "
     r'is a string; write 8 / 255 as a Python expression in the config, not '
     r'a string$'),
    ('eps', float('nan'), ValueError, r'diagnostics.eps must be a finite '
     r'number, got nan$'),
    ('alpha', 2, ValueError, r'diagnostics.alpha=2 is not in the \[0, 1\] '
     r'pixel scale.*write diagnostics.alpha=2 / 255'),
    ('alpha', -0.5, ValueError, r'diagnostics.alpha must be >= 0, got -0\.5'),
    ('seed', 'a', ValueError, r"diagnostics.seed must be an int, got 'a'$"),
    ('local_linearity', 'no', TypeError, r'diagnostics.local_linearity must '
     r"be True or False, got 'no'$"),
])
def test_diagnostics_bad_values_name_the_key(key, value, error, match):
    cfg = dict(eps=8 / 255)
    cfg[key] = value
    with pytest.raises(error, match=match):
        parse_diagnostics(cfg, OWNER)


def test_sanity_checks_off_is_none_and_no_attack():
    assert build_sanity_checks(False, OWNER) == (None, None)
    assert build_sanity_checks(None, OWNER) == (None, None)


def test_sanity_checks_on_has_default_tolerance():
    checker, attack = build_sanity_checks(True, OWNER)
    assert type(checker) is RobustSanityChecks
    assert checker.tolerance == 0.5
    assert attack is None


def test_sanity_checks_dict_sets_the_checker():
    checker, _ = build_sanity_checks(dict(tolerance=2, large_eps=0.5),
                                     OWNER)
    assert (checker.tolerance, checker.large_eps) == (2.0, 0.5)


def test_sanity_checks_unknown_keys_listed_with_accepted():
    with pytest.raises(ValueError, match=r"^RobustEvaluator: sanity_checks "
                       r"has unknown keys \['tol'\]; accepted: "
                       r"\('tolerance', 'zero_grad_fraction', 'random_tol', "
                       r"'large_eps', 'large_eps_max_acc', "
                       r"'large_eps_attack'\)$"):
        build_sanity_checks(dict(tol=1), OWNER)


def test_sanity_checks_large_eps_attack_is_built():
    cfg = dict(large_eps_attack=dict(type='PGDAttack', eps=0.3, steps=5))
    _, attack = build_sanity_checks(cfg, OWNER)
    assert type(attack) is PGDAttack
    assert (attack.eps, attack.steps) == (0.3, 5)


def test_sanity_checks_do_not_change_the_config():
    cfg = dict(large_eps_attack=dict(type='PGDAttack', eps=0.3))
    build_sanity_checks(cfg, OWNER)
    assert cfg == dict(large_eps_attack=dict(type='PGDAttack', eps=0.3))


def test_sanity_checks_bad_large_eps_attack_names_the_key():
    with pytest.raises(TypeError, match=r'^RobustEvaluator: sanity_checks.'
                       r'large_eps_attack entries must be ATTACKS configs'):
        build_sanity_checks(dict(large_eps_attack='PGDAttack'), OWNER)

"""RobustDistill's settings: ranges, choices and the inner maximisation's
attack, each refusal naming the key and the algorithm."""
import pytest

from kdiga_mmrazor.attacks import PGDAttack
from kdiga_mmrazor.models.algorithms.robust_distill_settings import (
    build_distill_attack,
    checked_choice,
    checked_number,
)


def test_numbers_in_their_closed_or_half_open_range():
    assert checked_number('model.alpha', 0, 0, 1) == 0.0
    assert checked_number('model.alpha', 1, 0, 1) == 1.0
    assert checked_number('model.tau', 1e-3, 0, open_low=True) == 1e-3
    with pytest.raises(ValueError, match=r'^RobustDistill: model.alpha must '
                       r'be in \[0, 1\], got 1.5$'):
        checked_number('model.alpha', 1.5, 0, 1)
    with pytest.raises(ValueError, match=r'^X: model.tau must be in \(0, '
                       r'inf\], got 0$'):
        checked_number('model.tau', 0, 0, open_low=True, who='X')
    with pytest.raises((TypeError, ValueError), match='model.tau'):
        checked_number('model.tau', '1', 0)


def test_choices():
    assert checked_choice('model.method', 'ard', ('ard', 'iad')) == 'ard'
    with pytest.raises(ValueError, match=r"model.method must be one of "
                       r"\('ard', 'iad'\), got 'trades'"):
        checked_choice('model.method', 'trades', ('ard', 'iad'))


def test_default_attack_is_pgd10_at_8_255_with_step_2_255():
    attack = build_distill_attack('ard', None)
    assert isinstance(attack, PGDAttack)
    assert (attack.eps, attack.alpha, attack.steps, attack.norm) == (
        pytest.approx(8 / 255), pytest.approx(2 / 255), 10, 'linf')


@pytest.mark.parametrize('method, cfg, match', [
    ('ard', dict(type='FGSMAttack', eps=2 / 255), 'must be dict'),
    ('ard', dict(type='PGDAttack', eps=2 / 255, alpha=0.5 / 255, steps=3,
                 restarts=2), 'set restarts=1'),
    ('rslad', dict(type='PGDAttack', eps=2 / 255, alpha=0.5 / 255, steps=3,
                   loss='cw'), 'ascends a KL divergence'),
    ('ard', dict(type='PGDAttack', eps=2 / 255, alpha=8 / 255, steps=3),
     'are they swapped'),
])
def test_attacks_the_inner_maximisation_cannot_run(method, cfg, match):
    with pytest.raises(ValueError, match=match):
        build_distill_attack(method, cfg, who='RobustDistill')

"""RobustDistill's settings, checked where they enter: numbers in their
range, choices among their values, and the student's inner maximisation
(a one-restart :class:`~kdiga_mmrazor.attacks.PGDAttack` whose step does
not exceed its radius). Messages name the algorithm (``who``) and the
config key."""
from typing import Optional, Tuple

from ...attacks import PGDAttack, build_attack
from ...attacks.checks import check_real, check_step_within_radius

WHO = 'RobustDistill'
DEFAULT_ATTACK = dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10)


def checked_number(key: str, value, low: float, high: float = float('inf'),
                   open_low: bool = False, who: str = WHO) -> float:
    """``value`` as a real number in ``[low, high]`` (``(low, high]`` when
    ``open_low``), else an error naming ``key``."""
    value = check_real(who, key, value)
    if value < low or (open_low and value == low) or value > high:
        bound = f'in ({low:g}, {high:g}]' if open_low else \
            f'in [{low:g}, {high:g}]'
        raise ValueError(f'{who}: {key} must be {bound}, got {value:g}')
    return value


def checked_choice(key: str, value, choices: Tuple[str, ...],
                   who: str = WHO) -> str:
    """``value`` if it is one of ``choices``, else an error naming
    ``key``."""
    if value not in choices:
        raise ValueError(f'{who}: {key} must be one of {choices}, got '
                         f'{value!r}')
    return value


def build_distill_attack(method: str, cfg: Optional[dict],
                         who: str = WHO) -> PGDAttack:
    """The student's inner maximisation, from ``model.attack`` (``None``:
    ε = 8/255, step 2/255, 10 steps, L∞), checked for what ``method``
    needs; ``who``, the algorithm's name, for messages.

    Raises:
        ValueError/TypeError/KeyError: not a one-restart ``PGDAttack``, a
            margin loss for a KL-ascending method, a step size larger than
            ε (the two swapped), or a value ``PGDAttack`` refuses.
    """
    attack = build_attack(DEFAULT_ATTACK if cfg is None else cfg,
                          'model.attack')
    if not isinstance(attack, PGDAttack):
        raise ValueError(
            f"{who}: model.attack must be dict(type='PGDAttack', eps=..., "
            f'alpha=..., steps=...), got {type(attack).__name__}')
    if attack.restarts != 1:
        raise ValueError(f'{who}: model.attack.restarts={attack.restarts}; '
                         'the inner maximisation runs once per step, set '
                         'restarts=1')
    if method in ('rslad', 'adaad') and attack.loss != 'ce':
        raise ValueError(
            f'{who}: method={method!r} ascends a KL divergence, not the '
            f"attack's loss; remove model.attack.loss={attack.loss!r}")
    check_step_within_radius(who, attack)
    return attack

"""Build-time checks of the robust evaluator's options (errors name the
key): sanity checks and diagnostics."""
from typing import Dict, Optional, Tuple, Union

from ..attacks.builder import build_attack
from ..attacks.checks import check_int, check_pixel_scale
from .sanity_checks import RobustSanityChecks

DIAGNOSTIC_KEYS = ('eps', 'steps', 'alpha', 'seed', 'local_linearity',
                   'gradient_alignment')
SANITY_KEYS = ('tolerance', 'zero_grad_fraction', 'random_tol', 'large_eps',
               'large_eps_max_acc', 'large_eps_attack')


def build_sanity_checks(
        cfg: Union[bool, Dict, None],
        owner: str) -> Tuple[Optional[RobustSanityChecks], Optional[object]]:
    """The checker of ``sanity_checks`` (None when off) and its
    ``large_eps_attack``, built (None if not given)."""
    if cfg is False or cfg is None:
        return None, None
    cfg = {} if cfg is True else dict(cfg)
    unknown = set(cfg) - set(SANITY_KEYS)
    if unknown:
        raise ValueError(f'{owner}: sanity_checks has unknown keys '
                         f'{sorted(unknown)}; accepted: {SANITY_KEYS}')
    attack_cfg = cfg.pop('large_eps_attack', None)
    attack = None
    if attack_cfg is not None:
        attack = build_attack(attack_cfg,
                              f'{owner}: sanity_checks.large_eps_attack')
    return RobustSanityChecks(**cfg), attack


def parse_diagnostics(cfg: Optional[Dict], owner: str) -> Optional[Dict]:
    """``diagnostics`` with its defaults filled in (None when off).

    ``eps`` and ``alpha`` are L∞ radii: finite, in ``[0, 1]``; ``steps`` an
    int >= 1 (``alpha`` defaults to ``2.5 · eps / steps``); ``seed`` an
    int; ``local_linearity`` a bool. Errors name ``diagnostics.<key>``.
    """
    if not cfg:
        return None
    cfg = dict(cfg)
    unknown = set(cfg) - set(DIAGNOSTIC_KEYS)
    if unknown:
        raise ValueError(f'{owner}: diagnostics has unknown keys '
                         f'{sorted(unknown)}; accepted: {DIAGNOSTIC_KEYS}')
    if 'eps' not in cfg:
        raise ValueError(
            f'{owner}: diagnostics needs eps, the L∞ radius of the '
            'local-linearity search and the bounds, e.g. '
            'diagnostics=dict(eps=8 / 255)')
    eps = check_pixel_scale(owner, 'diagnostics.eps', cfg['eps'], 'linf')
    steps = check_int(owner, 'diagnostics.steps', cfg.get('steps', 10))
    alpha = cfg.get('alpha')
    if alpha is None:
        alpha = 2.5 * eps / steps
    else:
        alpha = check_pixel_scale(owner, 'diagnostics.alpha', alpha, 'linf')
    local_linearity = cfg.get('local_linearity', True)
    if not isinstance(local_linearity, bool):
        raise TypeError(f'{owner}: diagnostics.local_linearity must be True '
                        f'or False, got {local_linearity!r}')
    return dict(
        eps=eps,
        steps=steps,
        alpha=alpha,
        seed=check_int(owner, 'diagnostics.seed', cfg.get('seed', 0),
                       minimum=None),
        local_linearity=local_linearity,
        gradient_alignment=cfg.get('gradient_alignment'))

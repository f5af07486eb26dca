"""Attacks from configs, and a configured list narrowed down by name.

A config whose values the attack refuses (``eps=8``, ``eps='8/255'``,
``steps=0``, an unknown key or type) raises the attack's error prefixed by
the config key it came from (``test_cfg.attacks[1]: PGDAttack: eps=8 …``).
"""
from typing import List, Optional, Sequence, Union

from ..registry import ATTACKS, build_in_package_scope


def build_attack(cfg: Union[dict, object],
                 where: str,
                 index: Optional[int] = None):
    """An attack from an ``ATTACKS`` config (built in its own scope, so no
    search from the runner's default scope), or a built attack as is.

    Args:
        cfg (dict | attack): ``dict(type='PGDAttack', eps=8 / 255)`` or an
            object with a ``name`` that is called as
            ``attack(model, x, y)``.
        where (str): Names the config key in errors.
        index (int, optional): Position of ``cfg`` in the list at
            ``where``; errors then name ``where[index]``. Defaults to None.

    Raises:
        TypeError: ``cfg`` is neither, or a value of it has the wrong type.
        ValueError: A value of it is out of range.
        KeyError: Its ``type`` is missing or not registered.
    """
    key = where if index is None else f'{where}[{index}]'
    if isinstance(cfg, dict):
        return build_in_package_scope(ATTACKS, cfg, key)
    if not (hasattr(cfg, 'name') and callable(cfg)):
        raise TypeError(
            f"{where} entries must be ATTACKS configs (dict(type='PGDAttack',"
            f' eps=8 / 255)) or attacks, got {type(cfg).__name__}'
            + ('' if index is None else f' at {key}'))
    return cfg


def build_attacks(cfgs: Sequence[Union[dict, object]],
                  where: str) -> List:
    """Every attack of the list at ``where``; errors name
    ``where[index]``."""
    return [build_attack(cfg, where, i) for i, cfg in enumerate(cfgs)]


def attack_names(cfgs: Sequence[Union[dict, object]], where: str) -> List[str]:
    """The metric names (``pgd20_linf_8``, …) of configured attacks."""
    return [attack.name for attack in build_attacks(cfgs, where)]


def select_attacks(cfgs: Sequence[Union[dict, object]],
                   names: Sequence[str],
                   where: str) -> List[Union[dict, object]]:
    """The entries of ``cfgs`` whose attack is named in ``names``, in the
    configured order.

    Raises:
        ValueError: a name is not among the configured attacks (the error
            lists them).
    """
    configured = attack_names(cfgs, where)
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ValueError(f'{where}: {unknown} not among the configured '
                         f'attacks {configured}')
    return [cfg for cfg, name in zip(cfgs, configured) if name in names]

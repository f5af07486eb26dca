"""Attacks from configs, and a configured list narrowed down by name."""
from typing import List, Sequence, Union

from ..registry import ATTACKS


def build_attack(cfg: Union[dict, object], where: str):
    """An attack from an ``ATTACKS`` config (built in its own scope, so no
    search from the runner's default scope), or a built attack as is.

    Args:
        cfg (dict | attack): ``dict(type='PGDAttack', eps=8 / 255)`` or an
            object with a ``name`` that is called as
            ``attack(model, x, y)``.
        where (str): Names the config key in errors.

    Raises:
        TypeError: ``cfg`` is neither.
    """
    if isinstance(cfg, dict):
        return ATTACKS.build(dict(cfg, _scope_='kdiga_mmrazor'))
    if not (hasattr(cfg, 'name') and callable(cfg)):
        raise TypeError(
            f"{where} entries must be ATTACKS configs (dict(type='PGDAttack',"
            f' eps=8 / 255)) or attacks, got {type(cfg).__name__}')
    return cfg


def attack_names(cfgs: Sequence[Union[dict, object]], where: str) -> List[str]:
    """The metric names (``pgd20_linf_8``, …) of configured attacks."""
    return [build_attack(cfg, where).name for cfg in cfgs]


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

"""Certifiers from configs (:data:`kdiga_mmrazor.registry.CERTIFIERS`).

A config the certifier refuses (``sigma=0``, ``n0=0``, an unknown key or
type) raises its error prefixed by the config key it came from
(``test_cfg.certification[0]: RandomizedSmoothing: sigma must be > 0 …``).
"""
from typing import Dict, List, Optional, Sequence, Union

from ...registry import CERTIFIERS, build_in_package_scope


def build_certifier(cfg: Union[Dict, object], where: str):
    """A certifier from a ``CERTIFIERS`` config (built in the package's
    scope), or a built one (with a ``name`` and ``certify``) as is.

    Raises:
        TypeError: ``cfg`` is neither, or a value has the wrong type.
        ValueError: A value is out of range.
        KeyError: Its ``type`` is missing or not registered.
    """
    if isinstance(cfg, dict):
        return build_in_package_scope(CERTIFIERS, cfg, where)
    if not (isinstance(getattr(cfg, 'name', None), str)
            and callable(getattr(cfg, 'certify', None))):
        raise TypeError(
            f"{where} must be a CERTIFIERS config (dict(type="
            "'RandomizedSmoothing', sigma=0.25)) or a certifier, got "
            f'{type(cfg).__name__}')
    return cfg


def build_certifiers(cfgs: Optional[Union[Dict, Sequence]],
                     where: str) -> List:
    """Every certifier of ``cfgs`` (None: none; one dict: one), errors
    naming ``where[index]``; their names (the metric keys) must be
    distinct."""
    if cfgs is None:
        return []
    if isinstance(cfgs, dict) or not isinstance(cfgs, (list, tuple)):
        cfgs = [cfgs]
    certifiers = [
        build_certifier(cfg, f'{where}[{i}]') for i, cfg in enumerate(cfgs)
    ]
    names = [c.name for c in certifiers]
    if len(set(names)) != len(names):
        raise ValueError(
            f'{where}: certifiers must have distinct names (the metric '
            f'keys), got {names}; set name=... in the repeated configs')
    return certifiers

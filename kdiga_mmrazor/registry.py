"""Registries of kdiga_mmrazor.

Attacks (``ATTACKS``) and certifiers (``CERTIFIERS``, randomized smoothing)
have registries of their own; losses, distillers and algorithms go to
MMRazor's ``MODELS``, backbones to MMPretrain's ``MODELS``, loops, hooks
and metrics to MMEngine's root ``LOOPS``/``HOOKS``/``METRICS``.
"""
from mmengine.registry import Registry

ATTACKS = Registry(
    'attack', scope='kdiga_mmrazor', locations=['kdiga_mmrazor.attacks'])
CERTIFIERS = Registry(
    'certifier',
    scope='kdiga_mmrazor',
    locations=['kdiga_mmrazor.evaluation.certification'])


def build_in_package_scope(registry: Registry, cfg: dict, key: str):
    """``registry.build(cfg)`` in this package's scope (no search from the
    runner's default scope); a ``TypeError``, ``ValueError`` or
    ``KeyError`` of the component is raised again, same type, prefixed by
    the config ``key`` it came from (``test_cfg.attacks[1]: …``)."""
    try:
        return registry.build(dict(cfg, _scope_='kdiga_mmrazor'))
    except (TypeError, ValueError, KeyError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args \
            else str(e)
        kind = KeyError if isinstance(e, KeyError) else \
            TypeError if isinstance(e, TypeError) else ValueError
        raise kind(f'{key}: {message}') from e

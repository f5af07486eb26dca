"""Registries of kdiga_mmrazor.

Only attacks have a registry of their own; losses, distillers and
algorithms go to MMRazor's ``MODELS``, backbones to MMPretrain's ``MODELS``,
loops, hooks and metrics to MMEngine's root ``LOOPS``/``HOOKS``/``METRICS``.
"""
from mmengine.registry import Registry

ATTACKS = Registry(
    'attack', scope='kdiga_mmrazor', locations=['kdiga_mmrazor.attacks'])

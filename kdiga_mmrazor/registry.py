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

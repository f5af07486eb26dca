"""Certified robustness: randomized smoothing (Cohen et al. 2019).

Importing registers :class:`RandomizedSmoothing` in
:data:`kdiga_mmrazor.registry.CERTIFIERS`. :class:`CertificationSuite` runs
the certifiers of a :class:`~kdiga_mmrazor.evaluation.RobustEvaluator`
(its ``certification`` option) on every member; the certified numbers are
:class:`~kdiga_mmrazor.evaluation.CertifiedAccuracy` metrics.
"""
from .bounds import (
    clopper_pearson_lower,
    max_certifiable_radius,
    smoothed_radius,
)
from .builder import build_certifier, build_certifiers
from .noise import sample_generator, sample_seed
from .progress import CertificationProgress, format_eta
from .randomized_smoothing import ABSTAIN, RandomizedSmoothing
from .suite import CertificationSuite

__all__ = [
    'ABSTAIN', 'CertificationProgress', 'CertificationSuite',
    'RandomizedSmoothing', 'build_certifier', 'build_certifiers',
    'clopper_pearson_lower', 'format_eta', 'max_certifiable_radius',
    'sample_generator', 'sample_seed', 'smoothed_radius'
]

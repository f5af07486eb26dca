"""Robust evaluation: the Runner-free evaluator, loops, metrics,
diagnostics, certification, sanity checks, result tables.

Importing registers ``RobustValLoop``/``RobustTestLoop`` in MMEngine's root
``LOOPS``, ``RobustEvalHook``/``RobustResultsHook`` in its root ``HOOKS``,
``RobustAccuracy``/``RobustDiagnostics``/``CertifiedAccuracy`` in its root
``METRICS`` (reachable from any ``default_scope``) and
``RandomizedSmoothing`` in :data:`kdiga_mmrazor.registry.CERTIFIERS`.
"""
from .certification import CertificationSuite, RandomizedSmoothing
from .diagnostics import (
    first_order_bound,
    gradient_misalignment,
    input_gradient,
    local_linearity,
    transfer_bound,
)
from .hooks import RobustEvalHook, RobustResultsHook
from .loops import RobustTestLoop, RobustValLoop
from .metrics import CertifiedAccuracy, RobustAccuracy, RobustDiagnostics
from .robust_evaluator import RobustEvaluator
from .robust_test_options import (
    apply_robust_options,
    is_robust_loop,
    teacher_alone,
)
from .sanity_checks import RobustSanityChecks, attack_strength
from .subset import IndexedSubset, select_subset
from .tables import (
    collect_versions,
    markdown_table,
    read_results,
    report_results,
    write_results,
)
from .targets import batch_targets

__all__ = [
    'CertificationSuite', 'CertifiedAccuracy', 'IndexedSubset',
    'RandomizedSmoothing', 'RobustAccuracy', 'RobustDiagnostics',
    'RobustEvalHook', 'RobustEvaluator', 'RobustResultsHook',
    'RobustSanityChecks', 'RobustTestLoop',
    'RobustValLoop', 'apply_robust_options', 'attack_strength',
    'batch_targets', 'collect_versions', 'first_order_bound',
    'gradient_misalignment', 'input_gradient', 'is_robust_loop',
    'local_linearity', 'markdown_table', 'read_results', 'report_results',
    'select_subset', 'teacher_alone', 'transfer_bound', 'write_results'
]

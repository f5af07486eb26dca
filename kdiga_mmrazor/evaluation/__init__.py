"""Robust evaluation: loops, metrics, diagnostics, sanity checks, tables.

Importing registers ``RobustValLoop``/``RobustTestLoop`` in MMEngine's root
``LOOPS`` and ``RobustAccuracy``/``RobustDiagnostics`` in its root
``METRICS`` (reachable from any ``default_scope``).
"""
from .diagnostics import (
    first_order_bound,
    gradient_misalignment,
    input_gradient,
    local_linearity,
    transfer_bound,
)
from .loops import RobustTestLoop, RobustValLoop
from .metrics import RobustAccuracy, RobustDiagnostics
from .sanity_checks import RobustSanityChecks, attack_strength
from .subset import IndexedSubset, select_subset
from .tables import (
    collect_versions,
    markdown_table,
    read_results,
    write_results,
)

__all__ = [
    'IndexedSubset', 'RobustAccuracy', 'RobustDiagnostics',
    'RobustSanityChecks', 'RobustTestLoop', 'RobustValLoop',
    'attack_strength', 'collect_versions', 'first_order_bound',
    'gradient_misalignment', 'input_gradient', 'local_linearity',
    'markdown_table', 'read_results', 'select_subset', 'transfer_bound',
    'write_results'
]

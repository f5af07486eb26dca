"""Robust metrics (MMEngine's root ``METRICS``): per-sample results keyed
by dataset index, gathered across ranks, each sample counted once."""
from .certified_accuracy import CertifiedAccuracy
from .indexed_metric import IndexedMetric, gather_unique, unique_by_index
from .robust_accuracy import RobustAccuracy
from .robust_diagnostics import RobustDiagnostics

__all__ = [
    'CertifiedAccuracy', 'IndexedMetric', 'RobustAccuracy',
    'RobustDiagnostics', 'gather_unique', 'unique_by_index'
]

"""Robust evaluation from hooks (MMEngine's root ``HOOKS``): one
``custom_hooks`` entry adds it to any config, and any Runner writes the
robust result table."""
from .robust_eval_hook import RobustEvalHook
from .robust_results_hook import CHECKPOINT_INFO, RobustResultsHook

__all__ = ['CHECKPOINT_INFO', 'RobustEvalHook', 'RobustResultsHook']

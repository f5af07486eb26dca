"""Robust val/test loops (MMEngine's root ``LOOPS``) around the
Runner-free ``RobustEvaluator``."""
from .robust_test_loop import RobustTestLoop
from .robust_val_loop import RobustValLoop

__all__ = ['RobustTestLoop', 'RobustValLoop']

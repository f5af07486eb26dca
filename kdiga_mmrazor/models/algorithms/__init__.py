"""Distillation algorithms: ``KDIGADistill`` (one forward per model, the
input gradients of both, each model with its own normalisation)."""
from .kdiga_distill import KDIGADistill

__all__ = ['KDIGADistill']

"""Distillers: ``KDIGADistiller``, MMRazor's configurable distiller with
the logits and input-gradient recorders on both sides."""
from .kdiga_distiller import KDIGADistiller

__all__ = ['KDIGADistiller']

"""Distillation losses: ``InputGradientAlignmentLoss`` (KDIGA's γ term)."""
from .input_gradient_alignment import InputGradientAlignmentLoss

__all__ = ['InputGradientAlignmentLoss']

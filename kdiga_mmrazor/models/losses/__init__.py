from .input_gradient_alignment import InputGradientAlignmentLoss

__all__ = ['InputGradientAlignmentLoss']

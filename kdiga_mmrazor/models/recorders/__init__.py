"""Recorders: ``KDIGAOutputs``, the logits and input gradients that the
algorithm writes once per step for the distiller's losses."""
from .kdiga_outputs_recorder import KDIGAOutputsRecorder

__all__ = ['KDIGAOutputsRecorder']

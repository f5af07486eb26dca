from .kdiga_outputs_recorder import KDIGAOutputsRecorder

__all__ = ['KDIGAOutputsRecorder']

"""Training hooks: the divergence guard (a non-finite loss, gradient norm
or weight stops the run at that iteration) and the checkpoint digest."""
from .checkpoint_digest import CheckpointDigestHook
from .divergence_guard import DivergenceError, DivergenceGuardHook

__all__ = ['CheckpointDigestHook', 'DivergenceError', 'DivergenceGuardHook']

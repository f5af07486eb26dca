"""Record a digest of the weights in every checkpoint a run saves.

:class:`CheckpointDigestHook` writes
``checkpoint['meta']['state_dict_digest']``
(:func:`~kdiga_mmrazor.checkpoint.state_dict_digest` of the checkpoint's
``state_dict``) just before MMEngine saves it, after every other hook has
changed the checkpoint (lowest priority; ``EMAHook`` swaps its weights in
at normal priority). Every load through
:func:`~kdiga_mmrazor.checkpoint.safe_torch_load` (``--resume``,
``load_from``, ``init_cfg``, ``teacher_ckpt``) recomputes it and refuses a
file whose tensors were edited or damaged since, naming both digests;
unlike the zip's CRC-32s the digest also survives a re-save or a
conversion that keeps the tensors.
"""
from typing import Mapping

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...checkpoint import state_dict_digest
from ...checkpoint.integrity import DIGEST_KEY


@HOOKS.register_module()
class CheckpointDigestHook(Hook):
    """Write ``meta.state_dict_digest`` into each saved checkpoint.

    Add it with ``custom_hooks=[dict(type='CheckpointDigestHook')]`` (or as
    a ``default_hooks`` entry); it has no arguments.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the digest of ``checkpoint['state_dict']`` in its meta.

        Raises:
            KeyError: the checkpoint has no ``state_dict`` mapping.
        """
        state_dict = checkpoint.get('state_dict')
        if not isinstance(state_dict, Mapping):
            raise KeyError(
                'CheckpointDigestHook: the checkpoint being saved has no '
                "'state_dict' mapping (keys: "
                f'{sorted(checkpoint)}); remove the hook from the config or '
                'save the weights under state_dict')
        meta = checkpoint.setdefault('meta', {})
        meta[DIGEST_KEY] = state_dict_digest(state_dict)

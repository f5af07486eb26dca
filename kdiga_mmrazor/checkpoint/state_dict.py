"""Key layouts of checkpoint files: where the weights sit, which prefixes.

Third-party checkpoints store their tensors under different keys
(``state_dict``, ``model``, ``net`` or at the top level) and with wrapper
prefixes (``module.`` from DDP). A prefix is removed only where a key
starts with it, never in the middle of a name.
"""
from collections import OrderedDict
from typing import Any, Dict, Mapping

import torch

# Keys under which checkpoints of MMEngine and common trainers keep weights.
WEIGHT_KEYS = ('state_dict', 'model', 'net')


def strip_prefix(weights: Mapping[str, torch.Tensor],
                 prefix: str) -> Dict[str, torch.Tensor]:
    """``weights`` with ``prefix`` removed from the keys that start with it
    (other keys unchanged)."""
    return OrderedDict(
        (k[len(prefix):] if prefix and k.startswith(prefix) else k, v)
        for k, v in weights.items())


def select_prefix(weights: Mapping[str, torch.Tensor],
                  prefix: str) -> Dict[str, torch.Tensor]:
    """Only the tensors whose key starts with ``prefix``, without it."""
    return OrderedDict((k[len(prefix):], v) for k, v in weights.items()
                       if k.startswith(prefix)
                       and isinstance(v, torch.Tensor))


def checkpoint_tensors(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The flat tensor dict of a checkpoint (under ``state_dict``,
    ``model`` or ``net``, or at the top level); keys unchanged.

    Raises:
        TypeError: ``checkpoint`` is not a dict.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(
            f'a checkpoint must be a dict, got {type(checkpoint).__name__}')
    for key in WEIGHT_KEYS:
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    return OrderedDict((k, v) for k, v in checkpoint.items()
                       if isinstance(v, torch.Tensor))


def extract_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint dict, ``module.`` prefixes stripped.

    Accepts MMEngine checkpoints (``state_dict``), common third-party
    layouts (``state_dict``, ``model``, ``net``) and a bare state dict.

    Raises:
        TypeError: ``checkpoint`` is not a dict.
    """
    return strip_prefix(checkpoint_tensors(checkpoint), 'module.')

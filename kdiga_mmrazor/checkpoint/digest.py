"""A digest of a state dict's tensors (names, dtypes, shapes and bytes).

Unlike a file's sha256 it does not depend on how the tensors were saved
(``.pth`` or safetensors, another key order, another pickle protocol), so
it identifies the weights themselves: a checkpoint written by a run
records it, and a teacher's weights are compared by it after a resume.
"""
import hashlib
from typing import Mapping

import torch


def state_dict_digest(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Hex sha256 over every tensor of ``state_dict`` in key order.

    Each entry contributes its key, dtype, shape and raw bytes (taken on
    CPU, contiguous); non-tensor entries contribute their ``repr``.
    """
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        value = state_dict[key]
        digest.update(key.encode())
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f'{tensor.dtype}{tuple(tensor.shape)}'.encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy()
                          .tobytes() if tensor.numel() else b'')
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()

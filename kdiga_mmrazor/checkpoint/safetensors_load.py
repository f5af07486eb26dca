"""safetensors files as checkpoints: a plain dict of tensors.

safetensors holds tensors only (a JSON header, then raw bytes), so
reading one runs no code. :func:`load_safetensors` reads it with the
``safetensors`` package on the device that ``map_location`` (as
``torch.load`` takes it) sends CPU tensors to, and refuses a cut or
damaged header, naming the file.
"""
import os.path as osp
from typing import Any, Dict

import torch

from .errors import CorruptCheckpointError

MAX_HEADER_BYTES = 100 << 20  # the safetensors reader's own limit


def safetensors_device(map_location: Any) -> str:
    """The device for :func:`safetensors.torch.load_file`: where
    ``map_location`` (None, a device, a string, a ``{'cpu': ...}`` dict or
    a ``(storage, location)`` function) sends tensors stored on CPU."""
    if map_location is None:
        return 'cpu'
    if isinstance(map_location, (str, torch.device)):
        return str(map_location)
    if isinstance(map_location, dict):
        return str(map_location.get('cpu', 'cpu'))
    if callable(map_location):
        moved = map_location(torch.UntypedStorage(1), 'cpu')
        return str(getattr(moved, 'device', 'cpu'))
    raise TypeError(f'map_location must be None, a device, a string, a dict '
                    f'or a function, got {type(map_location).__name__}')


def _header_problem(path: str) -> str:
    size = osp.getsize(path)
    with open(path, 'rb') as f:
        length = int.from_bytes(f.read(8), 'little')
    if length > min(size - 8, MAX_HEADER_BYTES):
        return (f'its header length field says {length} bytes but the file '
                f'has {size} (cut short, or a damaged first 8 bytes)')
    return ''


def load_safetensors(path: str, map_location: Any = None
                     ) -> Dict[str, torch.Tensor]:
    """The tensors of a safetensors file, as a plain dict.

    Raises:
        CorruptCheckpointError: the header or the data is cut or damaged.
        ImportError: the ``safetensors`` package is missing.
    """
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_file
    except ImportError:
        raise ImportError(
            f'checkpoint {path!r} is a safetensors file; install the '
            'safetensors package (pip install safetensors) to load it'
        ) from None
    device = safetensors_device(map_location)
    problem = _header_problem(path)
    if not problem:
        try:
            return dict(load_file(path, device=device))
        except (SafetensorError, OSError, ValueError) as error:
            problem = f'{type(error).__name__}: {error}'
    raise CorruptCheckpointError(
        f'checkpoint {path!r} is a damaged safetensors file: {problem}; '
        'use an intact copy (re-save, re-copy or re-download it)')

"""Load checkpoints without ever executing a pickle, and only intact ones.

Checkpoints come from third parties. Every checkpoint MMEngine reads from a
local path (``load_from``, ``--resume``, ``init_cfg=dict(type='Pretrained')``,
``teacher_ckpt``) goes through ``CheckpointLoader``'s local scheme, which this
module replaces with :func:`load_from_local` (:func:`safe_torch_load`):

1. the format is read from the first bytes (:mod:`.formats`): a torch zip,
   a pickle (legacy ``torch.save``) or safetensors; anything else (empty,
   text, JSON, an image, random bytes) is refused naming the file;
2. a torch zip must be whole and pass every entry's CRC-32
   (:mod:`.integrity`); safetensors files are read by ``safetensors``;
3. ``torch.load`` with ``weights_only=True`` always (also on torch < 2.6,
   whose default differs); its failures become this package's errors
   (:mod:`.refusals`), without torch's advice to turn ``weights_only``
   off;
4. a checkpoint whose ``meta`` records ``state_dict_digest`` must still
   hold those tensors.

``map_location=None`` (MMEngine's default) means CPU on a machine without
CUDA, so checkpoints saved on a GPU load there.

MMEngine's own checkpoints hold a few non-tensor types (the message hub's
``HistoryBuffer``, numpy arrays and scalars, a ``OneCycleLR``'s annealing
function): :func:`allow_mmengine_globals` allow-lists exactly those, so
``--resume`` works under ``weights_only=True``.
``weights_only`` is never disabled.
"""
import hashlib
import os.path as osp
import pickle
from typing import Any, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
from mmengine.runner.checkpoint import CheckpointLoader

from .errors import UnsafeCheckpointError
from .formats import SAFETENSORS, TORCH_ZIP, sniff_format
from .integrity import verify_state_dict_digest, verify_torch_zip
from .refusals import READ_ERRORS, read_error, refusal_error
from .safetensors_load import load_safetensors

# Registered by every HistoryBuffer instance; custom ones may add more.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
# OneCycle schedulers keep their annealing function in their state dict.
ONE_CYCLE_ANNEALING = ('_annealing_cos', '_annealing_linear')
def _allowed_attributes(obj: Any) -> tuple:
    if obj is HistoryBuffer:
        return HISTORY_BUFFER_STATISTICS + tuple(
            HistoryBuffer._statistics_methods)
    if obj is OneCycleParamScheduler:
        return ONE_CYCLE_ANNEALING
    return ()


def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to what MMEngine's own pickles refer to.

    A pickled ``HistoryBuffer`` names its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``, a ``OneCycleLR`` state its annealing
    function as ``getattr(OneCycleParamScheduler, '_annealing_cos')``.
    Allow-listing the real ``builtins.getattr`` would let a crafted file
    reach any attribute, so this stand-in answers only those lookups.
    """
    if name in _allowed_attributes(obj):
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'checkpoint asks for getattr({obj!r}, {name!r}), which is not an '
        'MMEngine statistics or annealing function; refusing it')


def _numpy_globals() -> list:
    multiarray = getattr(np, '_core', None) or np.core
    found = [np.ndarray, np.dtype, multiarray.multiarray._reconstruct,
             multiarray.multiarray.scalar]
    # numpy >= 1.25 pickles dtypes as instances of np.dtypes.*DType classes
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return found


def allow_mmengine_globals() -> None:
    """Allow-list the types MMEngine checkpoints hold for ``torch.load``.

    Idempotent; does nothing on a torch without ``add_safe_globals``.
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return
    add([
        HistoryBuffer, OneCycleParamScheduler,
        (_restricted_getattr, 'builtins.getattr')
    ] + _numpy_globals())


def file_sha256(path: str) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _default_map_location(map_location: Optional[Any]) -> Optional[Any]:
    if map_location is None and not torch.cuda.is_available():
        return 'cpu'
    return map_location


def _torch_load(path: str, fmt: str, map_location: Optional[Any]) -> Any:
    try:
        with open(path, 'rb') as f:  # a file: torch never guesses by name
            return torch.load(f, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as error:
        failure = refusal_error(path, fmt, str(error))
    except READ_ERRORS as error:
        failure = read_error(path, fmt, error)
    # raised outside the handler: torch's error (and its advice) is
    # neither the cause nor the context
    raise failure from None


def safe_torch_load(path: str, map_location: Optional[Any] = 'cpu') -> Any:
    """Load a checkpoint file pickle-free, refusing damaged ones.

    Args:
        path (str): A local ``torch.save`` file (zip or legacy) or a
            safetensors file (by content, whatever its suffix).
        map_location: As for ``torch.load``; ``None`` means CPU on a
            machine without CUDA. Defaults to ``'cpu'``.

    Returns:
        The checkpoint (a safetensors file gives a dict of tensors).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CorruptCheckpointError: ``path`` is empty, truncated, fails a
            CRC-32, or is not a checkpoint; the message says which.
        CheckpointDigestError: its tensors differ from the
            ``meta.state_dict_digest`` recorded when it was saved.
        UnsafeCheckpointError: the file's pickle would build objects that
            are not plain weights (it could run code); nothing from it ran.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'checkpoint {path!r} does not exist; check the path in the '
            'config (teacher_ckpt, load_from, init_cfg.checkpoint) or on '
            'the command line (--resume)')
    map_location = _default_map_location(map_location)
    fmt = sniff_format(path)
    if fmt == SAFETENSORS:
        return load_safetensors(path, map_location)
    if fmt == TORCH_ZIP:
        verify_torch_zip(path)
    checkpoint = _torch_load(path, fmt, map_location)
    verify_state_dict_digest(checkpoint, path)
    return checkpoint


def load_from_local(filename: str, map_location: Optional[Any] = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for local paths, made safe."""
    return safe_torch_load(filename, map_location=map_location)


def install_safe_checkpoint_loading() -> None:
    """Allow-list MMEngine's types and route local loads through
    :func:`safe_torch_load`. Idempotent."""
    allow_mmengine_globals()
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)

"""Load checkpoints without ever executing a pickle.

Checkpoints come from third parties. Every checkpoint MMEngine reads from a
local path (``load_from``, ``--resume``, ``init_cfg=dict(type='Pretrained')``,
``teacher_ckpt``) goes through ``CheckpointLoader``'s local scheme, which this
module replaces with :func:`load_from_local`: ``torch.load`` with
``weights_only=True`` always (also on torch < 2.6, whose default differs),
and a clear :class:`UnsafeCheckpointError` instead of torch's advice to turn
``weights_only`` off.

MMEngine's own checkpoints hold a few non-tensor types (the message hub's
``HistoryBuffer``, numpy arrays and scalars, a ``OneCycleLR``'s annealing
function): :func:`allow_mmengine_globals` allow-lists exactly those, so
``--resume`` works under ``weights_only=True``.
``weights_only`` is never disabled.
"""
import hashlib
import os.path as osp
import pickle
import re
from typing import Any, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
from mmengine.runner.checkpoint import CheckpointLoader

# Registered by every HistoryBuffer instance; custom ones may add more.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
# OneCycle schedulers keep their annealing function in their state dict.
ONE_CYCLE_ANNEALING = ('_annealing_cos', '_annealing_linear')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects beyond plain weights."""


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


def _unpickler_detail(text: str) -> str:
    """The line of torch's weights-only error that says what was refused.
    """
    found = re.search(r'unsupported global:? (GLOBAL )?[\w.]+', text,
                      flags=re.IGNORECASE)
    if found:
        return found.group(0)
    tail = text.split('WeightsUnpickler error:')[-1]
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[0] if '\n' in tail and lines else 'see the error below'


def safe_torch_load(path: str, map_location: Optional[Any] = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)``, with a clear refusal.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: the file's pickle would build objects that
            are not plain weights (it could run code); nothing from it ran.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'checkpoint {path!r} does not exist; check the path in the '
            'config (teacher_ckpt, load_from, init_cfg.checkpoint) or on '
            'the command line (--resume)')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        detail = _unpickler_detail(str(error))
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {path!r}: its pickle holds objects '
            f'that are not plain weights ({detail}). Loading it could run '
            'code from the file, so kdiga_mmrazor only loads checkpoints '
            'with weights_only=True. If you trust its source, re-save just '
            'its tensors (e.g. torch.save(ckpt["state_dict"], new_path)) in '
            'a sandbox and load that file instead.') from error


def load_from_local(filename: str, map_location: Optional[Any] = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for local paths, made safe."""
    return safe_torch_load(filename, map_location=map_location)


def install_safe_checkpoint_loading() -> None:
    """Allow-list MMEngine's types and route local loads through
    :func:`safe_torch_load`. Idempotent."""
    allow_mmengine_globals()
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)

"""Strict, logged, pickle-free loading of third-party weights.

Robust-distillation results are easily lost to a silently wrong teacher
(MMEngine's ``load_checkpoint`` is non-strict and only logs mismatches), so
:func:`load_state_dict_checked` loads on CPU, logs the file's sha256, and
refuses any key or shape mismatch with a message that names both sides.
"""
import os
import os.path as osp
from typing import Any, Dict, Iterable, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from .errors import CorruptCheckpointError, UnsafeCheckpointError
from .safe_load import file_sha256, safe_torch_load
from .state_dict import extract_state_dict, select_prefix

# Buffers that older checkpoints lack and that do not affect the outputs.
OPTIONAL_KEY_SUFFIXES = ('num_batches_tracked', )


def _mismatch(model_keys: Dict[str, torch.Size],
              weights: Dict[str, torch.Tensor]) -> List[str]:
    missing = [
        k for k in model_keys
        if k not in weights and not k.endswith(OPTIONAL_KEY_SUFFIXES)
    ]
    unexpected = [k for k in weights if k not in model_keys]
    shapes = [
        f'{k}: checkpoint {tuple(weights[k].shape)} vs model '
        f'{tuple(model_keys[k])}' for k in weights
        if k in model_keys and weights[k].shape != model_keys[k]
    ]
    return missing, unexpected, shapes


def local_copy(path: str, who: str) -> str:
    """``path`` itself, or for an ``http(s)://`` URL (an MMRazor config's
    ``teacher_ckpt`` on download.openmmlab.com) the file downloaded once to
    torch's hub cache, which is then loaded like any local file (never
    unpickled unsafely). Other schemes are refused naming ``who``."""
    if path.startswith(('http://', 'https://')):
        from torch.hub import download_url_to_file, get_dir
        target = osp.join(get_dir(), 'checkpoints',
                          osp.basename(path.split('?')[0]))
        if not osp.isfile(target):
            os.makedirs(osp.dirname(target), exist_ok=True)
            download_url_to_file(path, target)
        return target
    if '://' in path:
        raise ValueError(
            f'{who}: {path!r}: only local paths and http(s) URLs are loaded '
            'strictly; download the file and give its local path')
    return path


def _read(path: str, who: str) -> Any:
    """The checkpoint at ``path``; every refusal names ``who``."""
    if not osp.isfile(osp.expanduser(path)):
        raise FileNotFoundError(
            f'{who}: checkpoint {path!r} does not exist; set {who} to the '
            'path of a checkpoint file (torch.save or safetensors)')
    try:
        return safe_torch_load(path, map_location='cpu')
    except (CorruptCheckpointError, UnsafeCheckpointError) as error:
        failure = type(error)(f'{who}: {error}')
    raise failure from None


def load_state_dict_checked(module: nn.Module,
                            path: str,
                            who: str,
                            prefixes: Iterable[str] = ('', ),
                            hint: Optional[str] = None,
                            select: str = '') -> str:
    """Load ``path`` into ``module`` with every key and shape checked.

    Args:
        module (nn.Module): The model to load into.
        path (str): A local checkpoint file (never unpickled unsafely), or
            an ``http(s)://`` URL (:func:`local_copy`).
        who (str): Names the config key in messages, e.g.
            ``'KDIGADistill: model.teacher_ckpt'``.
        prefixes (Iterable[str]): Key layouts to try in order: each is put
            before every checkpoint key (``'backbone.'`` loads a bare
            backbone checkpoint into a classifier). Defaults to ``('',)``.
        hint (str, optional): What to check when nothing matches.
        select (str): Load only the checkpoint keys that start with this
            prefix, without it (MMEngine's ``init_cfg.prefix``, as
            ``'backbone.'``). Defaults to ``''`` (every key).

    Returns:
        str: The sha256 of the file (also logged).

    Raises:
        FileNotFoundError: ``path`` is not a file (names ``who``).
        CorruptCheckpointError, UnsafeCheckpointError: see
            :func:`~kdiga_mmrazor.checkpoint.safe_torch_load` (the message
            starts with ``who``).
        KeyError: no layout matches every key and shape of ``module``.
    """
    path = local_copy(path, who)
    checkpoint = _read(path, who)
    sha256 = file_sha256(osp.expanduser(path))
    weights = extract_state_dict(checkpoint)
    if select:
        weights = select_prefix(weights, select)
    model_keys = {k: v.shape for k, v in module.state_dict().items()}
    best: Optional[Sequence] = None
    for prefix in prefixes:
        renamed = {prefix + k: v for k, v in weights.items()}
        missing, unexpected, shapes = _mismatch(model_keys, renamed)
        if not (missing or unexpected or shapes):
            module.load_state_dict(renamed, strict=False)
            print_log(
                f'{who}: loaded {path} (sha256 {sha256}) into '
                f'{type(module).__name__}, {len(renamed)} tensors, key '
                f'prefix {prefix!r}, all keys and shapes match',
                logger='current')
            return sha256
        score = -len(missing) - len(unexpected) - len(shapes)
        if best is None or score > best[0]:
            best = (score, prefix, missing, unexpected, shapes)
    _, prefix, missing, unexpected, shapes = best
    required = len([
        k for k in model_keys if not k.endswith(OPTIONAL_KEY_SUFFIXES)])
    parts = [
        f'{who}: {path} (sha256 {sha256}) matches {required - len(missing)} '
        f'of {required} {type(module).__name__} keys (best key prefix '
        f'{prefix!r})'
    ]
    if missing:
        parts.append(f'{len(missing)} missing, first {missing[:3]}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected, first {unexpected[:3]}')
    if shapes:
        parts.append(f'{len(shapes)} shape mismatches, first {shapes[:2]}')
    parts.append(hint or 'check the model type in the config, or convert '
                 'the checkpoint first')
    raise KeyError('; '.join(parts))


def init_weights_checked(module: nn.Module, who: str) -> bool:
    """Strict ``init_cfg=dict(type='Pretrained', checkpoint=...)`` loading.

    For backbones whose parameter names mirror a third-party checkpoint:
    call from ``init_weights``. Returns whether it loaded (otherwise the
    caller falls back to its usual initialisation).
    """
    init_cfg = getattr(module, 'init_cfg', None)
    if not (isinstance(init_cfg, dict)
            and init_cfg.get('type') == 'Pretrained'):
        return False
    prefix = init_cfg.get('prefix')
    if prefix:
        raise ValueError(
            f'{who}: init_cfg.prefix={prefix!r} is not supported; the '
            'checkpoint keys must match this backbone (a bare state dict, '
            'optionally under "state_dict", keys optionally "module."-'
            'prefixed)')
    load_state_dict_checked(
        module,
        init_cfg['checkpoint'],
        who=f'{who}: init_cfg.checkpoint',
        hint=f'{who} expects the key layout documented in its docstring')
    module._is_init = True
    return True

"""Convert a ResNet checkpoint file into an MMPretrain checkpoint file.

The source is read pickle-free (:func:`~kdiga_mmrazor.checkpoint.
safe_torch_load`); the output is ``{'state_dict': ..., 'meta': ...}``
with tensors and plain values only, so MMPretrain (``load_from``,
``init_cfg=dict(type='Pretrained')``, this package's ``teacher_ckpt``)
loads it with ``weights_only=True``. ``meta`` records the source's name
and sha256, the layout, the model config, the wrapper's normalisation
(and the ``data_preprocessor`` applying it), every unmatched key, and
the ``state_dict_digest`` that loading checks.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import torch

from ..digest import state_dict_digest
from ..integrity import DIGEST_KEY
from ..safe_load import file_sha256, safe_torch_load
from .resnet import ConversionInfo, UnmatchedKeysError, convert_resnet

SHOWN = 20  # unmatched keys printed per list


def convert_resnet_checkpoint(
        src: str,
        dst: str,
        layout: str = 'torchvision',
        depth: Optional[int] = None,
        allow_partial: bool = False) -> Tuple[Dict[str, Any], ConversionInfo]:
    """Read ``src``, convert it (:func:`.convert_resnet`), write ``dst``.

    Returns:
        tuple: The saved checkpoint dict and the :class:`ConversionInfo`.

    Raises:
        UnmatchedKeysError, KeyError, ValueError, TypeError: as
            :func:`.convert_resnet`, the message starting with ``src``;
            nothing is written.
    """
    checkpoint = safe_torch_load(src, map_location='cpu')
    try:
        state_dict, info = convert_resnet(checkpoint, layout, depth,
                                          allow_partial)
    except UnmatchedKeysError as error:
        raise UnmatchedKeysError(f'{src}: {error}', error.info) from None
    except (KeyError, ValueError, TypeError) as error:
        message = error.args[0] if error.args else repr(error)
        raise type(error)(f'{src}: {message}') from None
    meta = dict(
        source=osp.basename(src),
        source_sha256=file_sha256(src),
        converter='kdiga_mmrazor.checkpoint.convert_resnet',
        **info.to_meta())
    meta[DIGEST_KEY] = state_dict_digest(state_dict)
    converted = dict(state_dict=state_dict, meta=meta)
    torch.save(converted, dst)
    return converted, info


def _keys(title: str, keys: List[str]) -> List[str]:
    if not keys:
        return []
    more = [f'    ... and {len(keys) - SHOWN} more (all in meta)'] \
        if len(keys) > SHOWN else []
    return [f'  {title} ({len(keys)}):'] + [f'    {k}'
                                           for k in keys[:SHOWN]] + more


def summary_lines(info: ConversionInfo) -> List[str]:
    """What a conversion did, as lines to print: the model config, the
    normalisation for the ``data_preprocessor``, the unmatched keys."""
    lines = [
        f'layout {info.layout}: ResNet keys under {info.source_prefix!r}',
        f'model: {info.model}',
    ]
    if info.normalization is None:
        lines.append('normalisation: none stored in the checkpoint; set the '
                     "teacher's data_preprocessor mean/std to the ones it "
                     'was trained with')
    else:
        lines.append(f'normalisation (RGB, [0, 1] pixels): mean '
                     f'{info.normalization["mean"]}, std '
                     f'{info.normalization["std"]}')
        lines.append(f'data_preprocessor: {info.data_preprocessor()}')
    if info.dropped:
        lines.append(f'dropped {len(info.dropped)} known duplicate keys '
                     f'(first {info.dropped[0]!r})')
    if info.filled:
        lines.append(f'filled {len(info.filled)} missing num_batches_tracked '
                     'counters with 0')
    lines += [f'note: {note}' for note in info.notes]
    lines += _keys('checkpoint keys not used', info.unexpected)
    lines += _keys('MMPretrain keys not filled', info.missing)
    lines += _keys('shape mismatches', info.shape_mismatches)
    if not info.complete:
        lines.append('PARTIAL: written because of allow_partial; a strict '
                     'load of this file will fail')
    return lines

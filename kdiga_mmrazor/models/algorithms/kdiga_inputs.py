"""What each model of a KDIGA step sees, and the first step's check.

Pixel space is the contract: the algorithm's data preprocessor only
scales to ``[0, 1]`` (and converts channels as the dataset needs); each
model normalises with its own mean/std, in its own channel order.

* :func:`split_data_preprocessor`: a ``model.data_preprocessor`` that
  normalises (a config's top-level ``data_preprocessor``, which the Runner
  hands to the model, e.g. a stock MMPretrain config's) becomes the
  scale-only algorithm preprocessor, and its mean/std the normalisation of
  the models that state none of their own.
* :func:`member_normalization`: a model's normalisation: its own
  ``data_preprocessor``, else the shared one (logged), else an error that
  names the key to set; channels flipped inside the model when its
  ``to_rgb`` differs from the algorithm's.
* :func:`check_first_input_gradients`: the input gradients of the first
  step must be usable.
"""
import logging
from typing import Dict, Optional, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

from ...utils.pixel_space import PIXEL_SCALE, PixelNormalize

KEYS = {'student': 'model.architecture', 'teacher': 'model.teacher'}
ZERO_GRAD_CAUSES = (
    'a head that starts at zero (MMPretrain initialises '
    'VisionTransformerClsHead to 0), a checkpoint that did not load (check '
    'the teacher_ckpt / init_cfg log line), or a forward that detaches its '
    'input (.detach(), .numpy(), integer casts, argmax)')


def to_rgb_of(preprocessor: Union[dict, nn.Module, None]) -> bool:
    """Whether a data preprocessor (config or built) converts BGR↔RGB."""
    if preprocessor is None:
        return False
    if isinstance(preprocessor, dict):
        return bool(
            preprocessor.get('to_rgb') or preprocessor.get('bgr_to_rgb')
            or preprocessor.get('rgb_to_bgr'))
    return bool(
        getattr(preprocessor, 'to_rgb', False)
        or getattr(preprocessor, '_channel_conversion', False))


def split_data_preprocessor(
        cfg: Optional[dict]) -> Tuple[dict, Optional[PixelNormalize]]:
    """The scale-only algorithm preprocessor config and the normalisation
    ``cfg`` carried (None when it has no mean/std).

    Keeps ``cfg``'s type, channel conversion, ``num_classes``, padding and
    batch augments; replaces ``mean``/``std`` by ``0``/``255``.
    """
    cfg = dict(cfg or {})
    cfg.setdefault('type', 'mmpretrain.ClsDataPreprocessor')
    shared = None
    mean, std = cfg.get('mean'), cfg.get('std')
    if mean is not None and std is not None:
        scale_only = (all(float(m) == 0 for m in mean)
                      and all(float(s) == PIXEL_SCALE for s in std))
        if not scale_only:
            shared = PixelNormalize(mean, std)
    channels = len(mean) if mean is not None else 3
    cfg.update(mean=[0.0] * channels, std=[PIXEL_SCALE] * channels)
    return cfg, shared


def states_preprocessor(member_cfg: Union[dict, nn.Module]) -> bool:
    """Whether a model's config says how it normalises (a built model
    always does: its own preprocessor)."""
    return not isinstance(member_cfg, dict) or (
        'data_preprocessor' in member_cfg)


def member_normalization(member: str,
                         module: nn.Module,
                         stated: bool,
                         shared: Optional[PixelNormalize],
                         algorithm_to_rgb: bool,
                         who: str = 'KDIGADistill') -> PixelNormalize:
    """The normalisation of ``member`` (``'student'``/``'teacher'``);
    ``who``, the algorithm's name, for messages.

    Raises:
        ValueError: it states none and ``model.data_preprocessor`` carries
            none either (the error names the key to set).
    """
    key = KEYS[member]
    if stated:
        own = module.data_preprocessor
        norm = PixelNormalize.from_preprocessor(own)
        norm.flip_channels = to_rgb_of(own) != algorithm_to_rgb
        return norm
    if shared is None:
        raise ValueError(
            f'{who}: {key} states no data_preprocessor, so its '
            'normalisation cannot be known. Set '
            f"{key}.data_preprocessor=dict(type='ClsDataPreprocessor', "
            'mean=[...], std=[...]) (a stock MMPretrain config keeps it at '
            'its top level: data_preprocessor=_base_.data_preprocessor), or '
            "data_preprocessor=dict(type='ClsDataPreprocessor') for a model "
            'that takes [0, 255] pixels as they are')
    norm = PixelNormalize(shared.mean * PIXEL_SCALE, shared.std * PIXEL_SCALE)
    print_log(
        f'{who}: {key} states no data_preprocessor; it normalises '
        f'with model.data_preprocessor\'s {norm.extra_repr()} (the config\'s '
        'top-level data_preprocessor)',
        logger='current',
        level=logging.INFO)
    return norm


def check_first_input_gradients(grads: Dict[str, torch.Tensor],
                                who: str = 'KDIGADistill') -> None:
    """Input gradients of the first step must be usable.

    A teacher whose :math:`g_t` is all zero gives the alignment nothing to
    align to, and a non-finite :math:`g_t` or :math:`g_s` poisons the step:
    both stop training. A student whose :math:`g_s` is all zero only warns:
    the alignment term still trains it (its gradient reaches the layers
    that zero it).

    Args:
        grads (dict): ``'teacher'`` and ``'student'`` input gradients.
        who (str): The algorithm's name, for messages. Defaults to
            ``'KDIGADistill'``.

    Raises:
        RuntimeError: ``g_t`` all zero, or either not finite.
    """
    for member, g in grads.items():
        if not torch.isfinite(g).all():
            raise RuntimeError(
                f"{who}: the {member}'s input gradient of the first "
                'step is not finite (NaN or inf): check the weights of '
                f'{KEYS[member]} and the loss weights')
    if not grads['teacher'].any():
        raise RuntimeError(
            f"{who}: the teacher's input gradient of the first step "
            'is exactly 0 for every image, so the alignment has nothing to '
            f'align to. Likely causes: {ZERO_GRAD_CAUSES}')
    if not grads['student'].any():
        print_log(
            f"{who}: the student's input gradient of the first step "
            'is exactly 0 for every image; the alignment term still trains '
            f'it, but check for {ZERO_GRAD_CAUSES}',
            logger='current',
            level=logging.WARNING)

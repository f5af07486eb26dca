"""Pixel space: the one input convention of attacks, IGA and diagnostics.

Everything robust in this package takes images ``x`` in ``[0, 1]`` (RGB,
float, NCHW, after augmentation, before any mean/std normalisation) and a
model *with* its own normalisation, ``x ↦ logits``. ε, input gradients and
attack steps are therefore all in the ``[0, 1]`` scale (8/255, not 8).

MMPretrain states mean/std in the 0–255 scale of its data preprocessors;
:class:`PixelNormalize` divides them by 255.
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, is_model_wrapper
from torch import nn

PIXEL_SCALE = 255.0
PIXEL_RANGE_TOLERANCE = 1e-3  # rounding slack of a [0, 255] / 255 batch


def check_pixel_range(owner: str, x: torch.Tensor) -> None:
    """Refuse a training batch outside ``[0, 1]`` (up to
    :data:`PIXEL_RANGE_TOLERANCE`): the algorithm's data preprocessor
    normalised it, so every ε, step and input gradient would be in the
    wrong scale. ``owner`` names the algorithm in the message."""
    low, high = x.min().item(), x.max().item()
    if low < -PIXEL_RANGE_TOLERANCE or high > 1 + PIXEL_RANGE_TOLERANCE:
        raise ValueError(
            f'{owner}: inputs span [{low:.3g}, {high:.3g}], not [0, 1] '
            'pixels; model.data_preprocessor must be mean=[0, 0, 0], '
            'std=[255, 255, 255] with no other normalisation before it')


class PixelNormalize(nn.Module):
    r""":math:`x \mapsto (x - \mu / 255) / (\sigma / 255)` for ``x`` in
    ``[0, 1]``.

    Args:
        mean (Sequence[float] | Tensor, optional): Per-channel mean in the
            0–255 scale, as in MMPretrain configs. ``None`` with ``std``
            ``None`` is the identity (the model sees ``[0, 1]`` pixels).
        std (Sequence[float] | Tensor, optional): Per-channel std, 0–255.
        flip_channels (bool): Reverse the channel order first (RGB ↔ BGR),
            for a model whose ``to_rgb`` differs from the pixels it is
            given. Defaults to False.
    """

    def __init__(self, mean=None, std=None,
                 flip_channels: bool = False) -> None:
        super().__init__()
        self.flip_channels = bool(flip_channels)
        if (mean is None) != (std is None):
            raise ValueError('PixelNormalize: give both mean and std, or '
                             f'neither (got mean={mean}, std={std})')
        self.enabled = mean is not None
        if self.enabled:
            mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
            std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
            self.register_buffer('mean', mean / PIXEL_SCALE, persistent=False)
            self.register_buffer('std', std / PIXEL_SCALE, persistent=False)

    @classmethod
    def from_preprocessor(cls, preprocessor: nn.Module) -> 'PixelNormalize':
        """The normalisation an MMEngine/MMPretrain data preprocessor
        applies (identity if it does not normalise)."""
        if getattr(preprocessor, '_enable_normalize', False):
            return cls(preprocessor.mean.detach().cpu().flatten(),
                       preprocessor.std.detach().cpu().flatten())
        return cls()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flip_channels:
            x = x.flip(1)
        if not self.enabled:
            return x
        return (x - self.mean.to(x)) / self.std.to(x)

    def extra_repr(self) -> str:
        flip = ', channels flipped' if self.flip_channels else ''
        if not self.enabled:
            return 'identity' + flip
        mean, std = ([round(v * PIXEL_SCALE, 3) for v in t.flatten().tolist()]
                     for t in (self.mean, self.std))
        return f'mean={mean}, std={std} (0-255 scale){flip}'


class PixelSpaceClassifier(nn.Module):
    """A classifier as ``x ∈ [0,1] ↦ logits``, its normalisation inside.

    Args:
        classifier (nn.Module): An MMPretrain classifier (called with
            ``mode='tensor'``) or any module returning logits.
        normalize (PixelNormalize): The normalisation it expects.
        input_size (tuple[int, int], optional): Resize ``x`` to this
            (H, W) first, bilinearly, when it differs (a teacher trained at
            another resolution). The resize is part of the model, so input
            gradients stay in the caller's pixel space. Defaults to None.
    """

    def __init__(self,
                 classifier: nn.Module,
                 normalize: PixelNormalize,
                 input_size: Optional[Tuple[int, int]] = None) -> None:
        super().__init__()
        self.classifier = classifier
        self.normalize = normalize
        self.input_size = tuple(input_size) if input_size else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_size and tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(
                x, size=self.input_size, mode='bilinear', align_corners=False)
        x_norm = self.normalize(x)
        if isinstance(self.classifier, BaseModel):
            logits = self.classifier(x_norm, mode='tensor')
        else:
            logits = self.classifier(x_norm)
        if isinstance(logits, (tuple, list)):
            logits = logits[-1]
        return logits


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a DDP/FSDP wrapper (or the model itself)."""
    return model.module if is_model_wrapper(model) else model


def as_pixel_classifier(model: nn.Module,
                        member: str = 'student') -> PixelSpaceClassifier:
    """Wrap a runner's model as ``x ∈ [0,1] ↦ logits``.

    * a model with a ``pixel_classifier(member)`` method (``KDIGADistill``:
      each member with its own normalisation) decides for itself;
    * an MMRazor algorithm otherwise gives its ``architecture`` (student)
      or ``teacher``, normalised as the algorithm's data preprocessor does
      (that is what both see in MMRazor's ``SingleTeacherDistill``);
    * a plain classifier is normalised by its own data preprocessor.

    Args:
        model (nn.Module): The (possibly wrapped) model.
        member (str): ``'student'`` or ``'teacher'``. Defaults to
            ``'student'``; a plain classifier is its own student.
    """
    if member not in ('student', 'teacher'):
        raise ValueError(f"member must be 'student' or 'teacher', got "
                         f'{member!r}')
    model = unwrap_model(model)
    if hasattr(model, 'pixel_classifier'):
        return model.pixel_classifier(member)
    normalize = PixelNormalize.from_preprocessor(model.data_preprocessor)
    if member == 'teacher':
        if not hasattr(model, 'teacher'):
            raise ValueError(
                f'{type(model).__name__} has no teacher to evaluate; set '
                'the loop/metric option for the teacher to False')
        net = model.teacher
    else:
        net = getattr(model, 'architecture', model)
    return PixelSpaceClassifier(net, normalize)


@contextmanager
def normalization_disabled(preprocessor: nn.Module) -> Iterator[None]:
    """Run a data preprocessor without its mean/std step (restored after).
    """
    enabled = getattr(preprocessor, '_enable_normalize', False)
    preprocessor._enable_normalize = False
    try:
        yield
    finally:
        preprocessor._enable_normalize = enabled


def pixels_from_batch(model: nn.Module,
                      data: dict,
                      training: bool = False
                      ) -> Tuple[torch.Tensor, Optional[Sequence]]:
    """Pixel-space images and data samples of a dataloader batch.

    Runs the model's own data preprocessor (device move, stacking, BGR→RGB,
    batch augments when ``training``) with normalisation disabled, then
    scales 0–255 to ``[0, 1]``.
    """
    preprocessor = unwrap_model(model).data_preprocessor
    with normalization_disabled(preprocessor):
        data = preprocessor(data, training)
    x = data['inputs'].float() / PIXEL_SCALE
    return x, data.get('data_samples')

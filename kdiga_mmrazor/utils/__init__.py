"""The input convention every robust component shares, and model views.

* :mod:`.pixel_space`: images in ``[0, 1]`` before normalisation; a model
  wrapped as ``x ↦ logits`` with its own normalisation inside.
* :mod:`.frozen_eval`: eval mode and frozen parameters for the duration of
  an attack, restored afterwards.
"""
from .frozen_eval import frozen_eval
from .pixel_space import (
    PIXEL_SCALE,
    PixelNormalize,
    PixelSpaceClassifier,
    as_pixel_classifier,
    check_pixel_range,
    normalization_disabled,
    pixels_from_batch,
    unwrap_model,
)

__all__ = [
    'PIXEL_SCALE', 'PixelNormalize', 'PixelSpaceClassifier',
    'as_pixel_classifier', 'check_pixel_range', 'frozen_eval',
    'normalization_disabled', 'pixels_from_batch', 'unwrap_model'
]

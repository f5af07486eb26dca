from .checkpoint import (
    extract_state_dict,
    init_weights_checked,
    load_state_dict_checked,
)
from .pixel_space import (
    PixelNormalize,
    PixelSpaceClassifier,
    as_pixel_classifier,
    normalization_disabled,
    pixels_from_batch,
    unwrap_model,
)

__all__ = [
    'PixelNormalize', 'PixelSpaceClassifier', 'as_pixel_classifier',
    'extract_state_dict', 'init_weights_checked', 'load_state_dict_checked',
    'normalization_disabled', 'pixels_from_batch', 'unwrap_model'
]

"""Checkpoint loading you can trust, in one place.

* :mod:`.safe_load`: ``torch.load(weights_only=True)`` only (never a
  pickle that could run code), the allow-list of MMEngine's own types so
  ``--resume`` works, sha256 of files, and the MMEngine ``CheckpointLoader``
  scheme that routes every local load through it.
* :mod:`.state_dict`: where a file keeps its weights; prefix handling.
* :mod:`.strict_load`: strict loading (every key and shape checked, sha256
  logged, mismatches named), also for ``init_cfg=dict(type='Pretrained')``.
* :mod:`.export`: a student-only checkpoint from a distillation checkpoint.
* :mod:`.converters`: third-party layouts to MMPretrain key names.
"""
from .converters import convert_robustness_resnet
from .export import export_student
from .safe_load import (
    UnsafeCheckpointError,
    file_sha256,
    install_safe_checkpoint_loading,
    safe_torch_load,
)
from .state_dict import extract_state_dict, select_prefix, strip_prefix
from .strict_load import init_weights_checked, load_state_dict_checked

__all__ = [
    'UnsafeCheckpointError', 'convert_robustness_resnet',
    'export_student', 'extract_state_dict', 'file_sha256',
    'init_weights_checked', 'install_safe_checkpoint_loading',
    'load_state_dict_checked', 'safe_torch_load', 'select_prefix',
    'strip_prefix'
]

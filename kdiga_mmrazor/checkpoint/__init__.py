"""Checkpoint loading you can trust, in one place.

* :mod:`.safe_load`: ``torch.load(weights_only=True)`` only (never a
  pickle that could run code), the allow-list of MMEngine's own types so
  ``--resume`` works, sha256 of files, and the MMEngine ``CheckpointLoader``
  scheme that routes every local load through it.
* :mod:`.errors`: what can be wrong with a file (unsafe, corrupt, edited).
* :mod:`.formats`: a file's format from its first bytes (torch zip,
  pickle, safetensors), and what a file that is none of them looks like.
* :mod:`.integrity`: a torch zip whole and passing its CRC-32s; tensors
  matching the digest recorded at save time.
* :mod:`.pickle_scan`: the globals a pickle names, read without running it.
* :mod:`.refusals`: torch's load failures as this package's errors.
* :mod:`.safetensors_load`: safetensors files as a dict of tensors.
* :mod:`.state_dict`: where a file keeps its weights; prefix handling.
* :mod:`.strict_load`: strict loading (every key and shape checked, sha256
  logged, mismatches named), also for ``init_cfg=dict(type='Pretrained')``.
* :mod:`.digest`: a digest of a state dict's tensors (format-independent).
* :mod:`.export`: a student-only checkpoint from a distillation checkpoint.
* :mod:`.converters`: third-party layouts to MMPretrain key names.
"""
from .converters import (
    ConversionInfo,
    UnmatchedKeysError,
    convert_resnet,
    convert_resnet_checkpoint,
    convert_robustbench_resnet,
    convert_robustness_resnet,
    convert_timm_resnet,
    convert_torchvision_resnet,
)
from .digest import state_dict_digest
from .errors import (
    CheckpointDigestError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
)
from .export import export_student
from .formats import sniff_format
from .integrity import verify_state_dict_digest, verify_torch_zip
from .safe_load import (
    file_sha256,
    install_safe_checkpoint_loading,
    safe_torch_load,
)
from .safetensors_load import load_safetensors
from .state_dict import extract_state_dict, select_prefix, strip_prefix
from .strict_load import init_weights_checked, load_state_dict_checked

__all__ = [
    'CheckpointDigestError', 'CorruptCheckpointError',
    'UnsafeCheckpointError', 'ConversionInfo', 'UnmatchedKeysError',
    'convert_resnet', 'convert_resnet_checkpoint',
    'convert_robustbench_resnet', 'convert_robustness_resnet',
    'convert_timm_resnet', 'convert_torchvision_resnet', 'export_student',
    'extract_state_dict', 'file_sha256', 'init_weights_checked',
    'install_safe_checkpoint_loading', 'load_safetensors',
    'load_state_dict_checked', 'safe_torch_load', 'select_prefix',
    'sniff_format', 'state_dict_digest', 'strip_prefix',
    'verify_state_dict_digest', 'verify_torch_zip'
]

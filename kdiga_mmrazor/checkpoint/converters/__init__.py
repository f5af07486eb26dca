"""Third-party checkpoint layouts converted to MMPretrain's key names.

torchvision-named ResNets (torchvision, timm, RobustBench's
``normalize_model`` wrapper, the robustness library's ``AttackerModel``)
become MMPretrain ``ImageClassifier`` state dicts (``ResNet`` +
``LinearClsHead``):

* :mod:`.layouts`: where each layout keeps the ResNet, its normaliser and
  known duplicate copies.
* :mod:`.resnet_arch`: the MMPretrain ResNet (depth, widths, classes) a
  state dict fills, and the keys and shapes of that model.
* :mod:`.resnet`: the conversion, refusing partial results unless
  ``allow_partial=True``.
* :mod:`.checkpoint_file`: file to file, with the source's sha256, the
  normalisation and the unmatched keys in ``meta``.
"""
from .checkpoint_file import convert_resnet_checkpoint, summary_lines
from .layouts import LAYOUTS
from .resnet import (
    ConversionInfo,
    UnmatchedKeysError,
    convert_resnet,
    convert_robustbench_resnet,
    convert_robustness_resnet,
    convert_timm_resnet,
    convert_torchvision_resnet,
)
from .resnet_arch import ResNetArch, infer_resnet_arch

__all__ = [
    'LAYOUTS', 'ConversionInfo', 'ResNetArch', 'UnmatchedKeysError',
    'convert_resnet', 'convert_resnet_checkpoint',
    'convert_robustbench_resnet', 'convert_robustness_resnet',
    'convert_timm_resnet', 'convert_torchvision_resnet',
    'infer_resnet_arch', 'summary_lines'
]

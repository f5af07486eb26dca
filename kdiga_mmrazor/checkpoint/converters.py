"""Third-party checkpoint layouts converted to MMPretrain's key names.

``robustness`` library (MadryLab) ResNets, e.g. Salman et al. 2020, "Do
Adversarially Robust ImageNet Models Transfer Better?"
(microsoft/robust-models-transfer, ``resnet50_linf_eps4.0.ckpt``), are saved
as ``{'model': {'module.model.<torchvision key>',
'module.attacker.model.<same>', 'module.normalizer.*'}, ...}``.
:func:`convert_robustness_resnet` keeps ``module.model.*`` and renames
torchvision's ResNet keys to MMPretrain's ``ImageClassifier``
(``backbone.*``, ``fc`` → ``head.fc``). The normaliser is dropped: its
mean/std (ImageNet's) belong in the model's ``data_preprocessor``.
"""
from collections import OrderedDict
from typing import Dict

import torch

from .state_dict import select_prefix

ROBUSTNESS_MODEL_PREFIX = 'module.model.'


def convert_robustness_resnet(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """MMPretrain ``ImageClassifier`` state dict of a robustness ResNet.

    Raises:
        KeyError: no key starts with ``module.model.``.
    """
    weights = checkpoint.get('model', checkpoint.get('state_dict',
                                                     checkpoint))
    model = select_prefix(weights, ROBUSTNESS_MODEL_PREFIX)
    if not model:
        raise KeyError(
            f'no key starts with {ROBUSTNESS_MODEL_PREFIX!r} (first keys: '
            f'{list(weights)[:3]}); is this a robustness-library checkpoint?')
    return OrderedDict(
        (('head.' if name.startswith('fc.') else 'backbone.') + name, value)
        for name, value in model.items())

"""Convert a ``robustness``-library ResNet checkpoint to MMPretrain keys.

Adversarially trained ImageNet ResNets (e.g. Salman et al. 2020, "Do
Adversarially Robust ImageNet Models Transfer Better?",
microsoft/robust-models-transfer, ``resnet50_linf_eps4.0.ckpt``) are saved
by MadryLab's ``robustness`` library: ``{'model': {'module.model.<torchvision
key>', 'module.attacker.model.<same>', 'module.normalizer.*'}, ...}``. This
keeps ``module.model.*`` and renames torchvision's ResNet keys to
MMPretrain's ``ImageClassifier`` (``backbone.*``, ``fc`` → ``head.fc``).
The normaliser is dropped: put its mean/std (ImageNet's) in the teacher's
``data_preprocessor``, as ``configs/kdiga_resnet50_vit_b_imagenet.py`` does.

The file is read with ``weights_only=True``; the output holds tensors only.

Example::

    python tools/model_converters/robustness_resnet_to_mmpretrain.py \
        resnet50_linf_eps4.0.ckpt \
        checkpoints/resnet50_linf_eps4.0_mmpretrain.pth
"""
import argparse
from collections import OrderedDict
from typing import Dict

import torch

import kdiga_mmrazor  # noqa: F401  (safe loading)
from kdiga_mmrazor.compat import file_sha256, safe_torch_load

MODEL_PREFIX = 'module.model.'


def convert(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """MMPretrain ``ImageClassifier`` state dict of a robustness ResNet."""
    weights = checkpoint.get('model', checkpoint.get('state_dict',
                                                     checkpoint))
    keys = [k for k in weights if k.startswith(MODEL_PREFIX)]
    if not keys:
        raise KeyError(
            f'no key starts with {MODEL_PREFIX!r} (first keys: '
            f'{list(weights)[:3]}); is this a robustness-library checkpoint?')
    converted = OrderedDict()
    for key in keys:
        name = key[len(MODEL_PREFIX):]
        if name.startswith('fc.'):
            converted['head.' + name] = weights[key]
        else:
            converted['backbone.' + name] = weights[key]
    return converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='robustness-library checkpoint')
    parser.add_argument('dst', help='MMPretrain checkpoint to write')
    args = parser.parse_args()
    state_dict = convert(safe_torch_load(args.src))
    torch.save(
        dict(
            state_dict=state_dict,
            meta=dict(source_sha256=file_sha256(args.src))), args.dst)
    print(f'wrote {args.dst}: {len(state_dict)} tensors '
          f'(sha256 {file_sha256(args.dst)})')


if __name__ == '__main__':
    main()

"""Convert a ``robustness``-library ResNet checkpoint to MMPretrain keys.

A thin command line over
:func:`kdiga_mmrazor.checkpoint.convert_robustness_resnet` (adversarially
trained ImageNet ResNets of MadryLab's ``robustness`` library, e.g.
microsoft/robust-models-transfer's ``resnet50_linf_eps4.0.ckpt``). The
normaliser is dropped: put its mean/std (ImageNet's) in the teacher's
``data_preprocessor``, as ``configs/kdiga_resnet50_vit_b_imagenet.py`` does.
The file is read with ``weights_only=True``; the output holds tensors only.

Example::

    python tools/model_converters/robustness_resnet_to_mmpretrain.py \\
        resnet50_linf_eps4.0.ckpt \\
        checkpoints/resnet50_linf_eps4.0_mmpretrain.pth
"""
import argparse

import torch

import kdiga_mmrazor  # noqa: F401  (safe loading)
from kdiga_mmrazor.checkpoint import (
    convert_robustness_resnet,
    file_sha256,
    safe_torch_load,
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='robustness-library checkpoint')
    parser.add_argument('dst', help='MMPretrain checkpoint to write')
    args = parser.parse_args(argv)
    state_dict = convert_robustness_resnet(safe_torch_load(args.src))
    torch.save(
        dict(
            state_dict=state_dict,
            meta=dict(source_sha256=file_sha256(args.src))), args.dst)
    print(f'wrote {args.dst}: {len(state_dict)} tensors '
          f'(sha256 {file_sha256(args.dst)})')


if __name__ == '__main__':
    main()

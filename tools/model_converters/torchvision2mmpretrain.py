"""Convert a torchvision-named ResNet checkpoint to an MMPretrain one.

A thin command line over
:func:`kdiga_mmrazor.checkpoint.convert_resnet_checkpoint`. Layouts:

* ``torchvision`` / ``timm``: a plain ``state_dict()`` (keys optionally
  ``module.``-prefixed); timm's plain ResNets share torchvision's names.
* ``robustbench``: RobustBench's ImageNet ResNets (``normalize_model``:
  ``normalize.mean/std`` + ``model.*``, or ``0.``/``1.``), behind any
  ``module.``/``model.`` prefixes.
* ``robustness``: MadryLab's robustness library (``module.model.*``,
  ``module.normalizer.*``, the attacker's copy dropped), e.g.
  microsoft/robust-models-transfer's ``resnet50_linf_eps4.0.ckpt``.

The output loads into ``ImageClassifier(backbone=ResNet(depth),
neck=GlobalAveragePooling, head=LinearClsHead)``; the model config and the
wrapper's normalisation (put it in the teacher's ``data_preprocessor``)
are printed and stored in ``meta``. Unmatched keys are named and the
conversion refused unless ``--allow-partial``. The source is read with
``weights_only=True``; the output holds tensors and plain values only.

Example::

    python tools/model_converters/torchvision2mmpretrain.py \\
        Salman2020Do_R50.pt checkpoints/salman2020do_r50_mmpretrain.pth \\
        --layout robustbench
"""
import argparse
import pickle
import sys

import kdiga_mmrazor  # noqa: F401  (safe loading)
from kdiga_mmrazor.checkpoint import convert_resnet_checkpoint, file_sha256
from kdiga_mmrazor.checkpoint.converters import LAYOUTS, summary_lines
from kdiga_mmrazor.checkpoint.converters.resnet_arch import ARCH_SETTINGS


def parse_args(argv=None, layout: str = 'torchvision') -> argparse.Namespace:
    """The command line (``layout`` is the default ``--layout``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='MMPretrain checkpoint to write')
    parser.add_argument(
        '--layout', choices=list(LAYOUTS), default=layout,
        help='key layout of SRC (default: %(default)s)')
    parser.add_argument(
        '--depth', type=int, choices=sorted(ARCH_SETTINGS),
        help='MMPretrain ResNet depth (default: read from the blocks)')
    parser.add_argument(
        '--allow-partial', action='store_true',
        help='write the matching tensors even if keys are left over, '
        'missing or of another shape (listed in meta)')
    return parser.parse_args(argv)


def main(argv=None, layout: str = 'torchvision') -> None:
    args = parse_args(argv, layout)
    try:
        converted, info = convert_resnet_checkpoint(
            args.src, args.dst, args.layout, args.depth, args.allow_partial)
    except (OSError, KeyError, ValueError, TypeError,
            pickle.UnpicklingError) as error:
        # refusals (unsafe, corrupt, unmatched) say what is wrong and how
        sys.exit(f'error: {error}')
    for line in summary_lines(info):
        print(line)
    print(f'wrote {args.dst}: {len(converted["state_dict"])} tensors '
          f'(sha256 {file_sha256(args.dst)})')


if __name__ == '__main__':
    main()

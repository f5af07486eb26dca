"""Convert a ``robustness``-library ResNet checkpoint to MMPretrain keys.

``torchvision2mmpretrain.py --layout robustness`` (same arguments): for
adversarially trained ImageNet ResNets of MadryLab's ``robustness``
library, e.g. microsoft/robust-models-transfer's
``resnet50_linf_eps4.0.ckpt``. The normaliser's mean/std are printed and
stored in ``meta``: put them in the teacher's ``data_preprocessor``, as
``configs/kdiga_resnet50_vit_b_imagenet.py`` does.

Example::

    python tools/model_converters/robustness_resnet_to_mmpretrain.py \\
        resnet50_linf_eps4.0.ckpt \\
        checkpoints/resnet50_linf_eps4.0_mmpretrain.pth
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from torchvision2mmpretrain import main as convert  # noqa: E402


def main(argv=None) -> None:
    convert(argv, layout='robustness')


if __name__ == '__main__':
    main()

"""Point CIFAR-10 configs at an image-folder copy of the dataset.

User-facing configs keep MMPretrain's ``CIFAR10`` dataset on
``data/cifar10`` (which downloads and md5-checks the official pickles). A
copy laid out as ``ROOT/{train,test}/<class>/*.jpg`` (what
``tools/dataset_converters/prepare_cifar10.sh`` makes from an offline JPEG
copy) is read by MMPretrain's ``CustomDataset`` instead: classes sort into
the official label order. :func:`use_cifar10_folder` rewrites every
``CIFAR10`` dataset of a config accordingly; ``tools/train.py`` and
``tools/test.py`` call it when the environment variable
``KDIGA_CIFAR10_FOLDER`` names such a folder.
"""
import os.path as osp
from typing import Any

from mmengine.config import Config, ConfigDict

ENV_VAR = 'KDIGA_CIFAR10_FOLDER'
CIFAR10_TYPES = ('CIFAR10', 'mmpretrain.CIFAR10')
CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
# ``LoadImageFromFile`` decodes to BGR; the CIFAR10 class yields RGB.
LOAD_RGB = [
    dict(type='LoadImageFromFile'),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(type='PILToNumpy', to_bgr=False),
]


def _folder_dataset(dataset: dict, root: str) -> ConfigDict:
    split = dataset.get('split', 'test' if dataset.get('test_mode') else
                        'train')
    if split not in ('train', 'test'):
        raise ValueError(f"{ENV_VAR}: CIFAR10 split must be 'train' or "
                         f"'test', got {split!r}")
    if not osp.isdir(osp.join(root, split)):
        raise FileNotFoundError(
            f'{ENV_VAR}={root!r} has no {split}/ folder; lay CIFAR-10 out '
            'with tools/dataset_converters/prepare_cifar10.sh first')
    kept = {
        k: v
        for k, v in dataset.items()
        if k not in ('type', 'split', 'data_root', 'data_prefix', 'pipeline',
                     'download', 'metainfo')
    }
    return ConfigDict(
        kept,
        type='mmpretrain.CustomDataset',
        data_root=root,
        data_prefix=split,
        classes=list(CLASSES),
        test_mode=split == 'test',
        pipeline=LOAD_RGB + list(dataset.get('pipeline', [])))


def _rewrite(node: Any, root: str) -> Any:
    if isinstance(node, dict):
        if node.get('type') in CIFAR10_TYPES:
            return _folder_dataset(node, root)
        return type(node)({k: _rewrite(v, root) for k, v in node.items()})
    if isinstance(node, (list, tuple)):
        return type(node)(_rewrite(v, root) for v in node)
    return node


def use_cifar10_folder(cfg: Config, root: str) -> Config:
    """Replace every ``CIFAR10`` dataset in the dataloaders of ``cfg`` by a
    ``CustomDataset`` on ``root/{train,test}`` with the same pipeline."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            cfg[key] = _rewrite(cfg[key], root)
    return cfg

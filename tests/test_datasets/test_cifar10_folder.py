"""CIFAR10 configs pointed at the image-folder copy."""
import pytest
from mmengine.config import Config

from kdiga_mmrazor.datasets.cifar10_folder import CLASSES, use_cifar10_folder


def _cfg():
    pipeline = [dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
    return Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='CIFAR10',
                    data_root='data/cifar10',
                    split='train',
                    indices=100,
                    pipeline=pipeline)),
            val_dataloader=dict(
                dataset=dict(
                    type='CIFAR10', data_root='data/cifar10/', split='test',
                    pipeline=pipeline[1:])),
            test_dataloader=None))


def test_datasets_become_custom_datasets_with_rgb_loading(tmp_path):
    for split in ('train', 'test'):
        (tmp_path / split).mkdir()
    cfg = use_cifar10_folder(_cfg(), str(tmp_path))
    train = cfg.train_dataloader.dataset
    assert train.type == 'mmpretrain.CustomDataset'
    assert train.data_prefix == 'train' and not train.test_mode
    assert train.indices == 100 and 'split' not in train
    assert [t['type'] for t in train.pipeline] == [
        'LoadImageFromFile', 'NumpyToPIL', 'PILToNumpy', 'RandomFlip',
        'PackInputs'
    ]
    assert train.pipeline[1]['to_rgb'] and not train.pipeline[2]['to_bgr']
    val = cfg.val_dataloader.dataset
    assert val.data_prefix == 'test' and val.test_mode
    assert tuple(val.classes) == CLASSES


def test_missing_folder_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='prepare_cifar10.sh'):
        use_cifar10_folder(_cfg(), str(tmp_path))


def test_folder_class_order_is_the_official_label_order(cifar10_folder):
    import os
    assert tuple(sorted(os.listdir(f'{cifar10_folder}/test'))) == CLASSES

"""CIFAR10 configs pointed at the image-folder copy."""
import pytest
from mmengine.config import Config

from kdiga_mmrazor.datasets.cifar10_folder import (
    CLASSES,
    is_cifar10_folder,
    use_cifar10_folder,
    use_cifar10_folders_found,
)


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


def _folders(root, pickles=False):
    for split in ('train', 'test'):
        (root / split / CLASSES[0]).mkdir(parents=True)
    if pickles:
        (root / 'cifar-10-batches-py').mkdir()
    return str(root)


def _cfg_at(root, val_root=None):
    cfg = _cfg()
    cfg.train_dataloader.dataset.data_root = root
    cfg.val_dataloader.dataset.data_root = val_root or root
    return cfg


def test_image_folders_at_the_data_root_are_found_without_a_variable(
        tmp_path):
    root = _folders(tmp_path / 'cifar10')
    other = str(tmp_path / 'other')  # no folders there: left to MMPretrain
    cfg = use_cifar10_folders_found(_cfg_at(root, other))
    train = cfg.train_dataloader.dataset
    assert (train.type, train.data_root, train.data_prefix) == (
        'mmpretrain.CustomDataset', root, 'train')
    val = cfg.val_dataloader.dataset
    assert (val.type, val.data_root) == ('CIFAR10', other)


def test_official_pickles_keep_mmpretrains_cifar10(tmp_path):
    root = _folders(tmp_path / 'cifar10', pickles=True)
    assert not is_cifar10_folder(root)
    cfg = use_cifar10_folders_found(_cfg_at(root))
    assert cfg.train_dataloader.dataset.type == 'CIFAR10'


def test_a_missing_root_outside_the_repository_is_left_to_mmpretrain(
        tmp_path):
    cfg = use_cifar10_folders_found(_cfg_at(str(tmp_path / 'nowhere')))
    assert cfg.train_dataloader.dataset.type == 'CIFAR10'
    assert not (tmp_path / 'nowhere').exists()

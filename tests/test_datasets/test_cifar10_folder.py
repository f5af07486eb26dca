"""CIFAR10 configs pointed at the image-folder copy; incomplete copies
refused naming the path and the layout."""
import re

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


def _layout(root, splits=('train', 'test'), classes=CLASSES, image=True):
    """``root/{split}/<class>/0.jpg`` (an empty file: only the layout is
    read before the dataset is built)."""
    for split in splits:
        (root / split).mkdir(parents=True, exist_ok=True)
        for name in classes:
            (root / split / name).mkdir()
            if image:
                (root / split / name / '0.jpg').touch()
    return str(root)


def test_datasets_become_custom_datasets_with_rgb_loading(tmp_path):
    _layout(tmp_path)
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
    with pytest.raises(FileNotFoundError, match=(
            rf"^CIFAR-10 image folder '{re.escape(str(tmp_path))}' "
            rf'\(data_root, or KDIGA_CIFAR10_FOLDER\) has no train/ folder: '
            rf'expected {re.escape(str(tmp_path / "train"))}/<class>/\*\.jpg '
            r".*prepare_cifar10\.sh$")):
        use_cifar10_folder(_cfg(), str(tmp_path))


def test_split_without_class_folders_names_the_path_and_the_classes(
        tmp_path):
    _layout(tmp_path, classes=())
    split = re.escape(str(tmp_path / 'train'))
    with pytest.raises(FileNotFoundError, match=(
            rf'^CIFAR-10 image folder {split} lacks the class folders '
            r"\['airplane', 'automobile', .*'truck'\]: expected "
            rf"{split}/<class>/\*\.jpg for the classes \['airplane', ")):
        use_cifar10_folder(_cfg(), str(tmp_path))


def test_some_missing_and_other_folders_are_both_named(tmp_path):
    _layout(tmp_path, classes=CLASSES[:8] + ('plane', ))
    with pytest.raises(FileNotFoundError, match=(
            r"lacks the class folders \['ship', 'truck'\] and has other "
            r"folders \['plane'\]: expected")):
        use_cifar10_folder(_cfg(), str(tmp_path))


def test_class_folders_without_images_are_named(tmp_path):
    _layout(tmp_path)
    for name in ('cat', 'dog'):
        (tmp_path / 'test' / name / '0.jpg').unlink()
        (tmp_path / 'test' / name / 'notes.txt').touch()
    split = re.escape(str(tmp_path / 'test'))
    with pytest.raises(FileNotFoundError, match=(
            rf"^CIFAR-10 image folder {split}: the class folders \['cat', "
            r"'dog'\] hold no images \(\.jpg, \.jpeg, \.png")):
        use_cifar10_folder(_cfg(), str(tmp_path))


def test_images_in_subfolders_of_a_class_count(tmp_path):
    _layout(tmp_path, image=False)
    for split in ('train', 'test'):
        for name in CLASSES:
            (tmp_path / split / name / 'a').mkdir()
            (tmp_path / split / name / 'a' / '1.PNG').touch()
    cfg = use_cifar10_folder(_cfg(), str(tmp_path))
    assert cfg.val_dataloader.dataset.type == 'mmpretrain.CustomDataset'


def test_empty_folder_found_at_the_data_root_raises_with_its_path(tmp_path):
    root = tmp_path / 'cifar10'
    _layout(root, classes=())  # train/ and test/ but nothing in them
    with pytest.raises(FileNotFoundError, match=(
            rf'^CIFAR-10 image folder {re.escape(str(root / "train"))} lacks '
            'the class folders')):
        use_cifar10_folders_found(_cfg_at(str(root)))


def test_the_built_dataset_reads_the_checked_layout(tmp_path):
    import numpy as np
    from mmcv import imwrite
    from mmpretrain.registry import DATASETS
    for split in ('train', 'test'):
        for k, name in enumerate(CLASSES):
            imwrite(np.full((4, 4, 3), 10 * k, np.uint8),
                    str(tmp_path / split / name / f'{k}.png'))
    cfg = use_cifar10_folder(_cfg(), str(tmp_path))
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(dataset) == 10
    assert list(dataset.get_gt_labels()) == list(range(10))


def test_folder_class_order_is_the_official_label_order(cifar10_folder):
    import os
    assert tuple(sorted(os.listdir(f'{cifar10_folder}/test'))) == CLASSES


def _folders(root, pickles=False):
    _layout(root)
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

"""Point CIFAR-10 configs at an image-folder copy of the dataset.

User-facing configs keep MMPretrain's ``CIFAR10`` dataset on
``data/cifar10`` (which downloads and md5-checks the official pickles). A
copy laid out as ``ROOT/{train,test}/<class>/*.jpg`` (what
``tools/dataset_converters/prepare_cifar10.sh`` makes from an offline JPEG
copy) is read by MMPretrain's ``CustomDataset`` instead: classes sort into
the official label order. :func:`use_cifar10_folder` rewrites every
``CIFAR10`` dataset of a config accordingly. The tools call
:func:`use_cifar10_folders_found`: a ``CIFAR10`` dataset whose
``data_root`` holds such folders (and not the official pickles) is read
from them, and a missing ``data/cifar10`` is laid out from the offline copy
when the repository's script finds one; the environment variable
``KDIGA_CIFAR10_FOLDER`` names another folder for every dataset. Before
any dataset is built, each split folder used must hold the 10 class
folders with images in them (:func:`check_image_folder`); an incomplete
copy raises naming its path and the expected layout.
"""
import logging
import os
import os.path as osp
import subprocess
from typing import Any, List, Optional, Sequence

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

ENV_VAR = 'KDIGA_CIFAR10_FOLDER'
CIFAR10_TYPES = ('CIFAR10', 'mmpretrain.CIFAR10')
CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
# what ``CustomDataset`` reads by default
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')
PREPARE = 'tools/dataset_converters/prepare_cifar10.sh'
# ``LoadImageFromFile`` decodes to BGR; the CIFAR10 class yields RGB.
LOAD_RGB = [
    dict(type='LoadImageFromFile'),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(type='PILToNumpy', to_bgr=False),
]


def _has_image(folder: str, extensions: Sequence[str]) -> bool:
    """Whether ``folder`` (or a folder below it) holds an image file;
    stops at the first one."""
    for _, _, files in os.walk(folder):
        if any(f.lower().endswith(tuple(extensions)) for f in files):
            return True
    return False


def check_image_folder(root: str,
                       split: str,
                       extensions: Sequence[str] = IMG_EXTENSIONS) -> None:
    """``root/split`` holds exactly the 10 class folders, each with at
    least one image (what ``CustomDataset`` needs), before anything is
    built; FileNotFoundError naming the path and the layout otherwise."""
    split_dir = osp.join(root, split)
    layout = (f'expected {split_dir}/<class>/*.jpg for the classes '
              f'{list(CLASSES)}; lay CIFAR-10 out with {PREPARE}')
    if not osp.isdir(split_dir):
        raise FileNotFoundError(
            f'CIFAR-10 image folder {root!r} (data_root, or {ENV_VAR}) has '
            f'no {split}/ folder: {layout}')
    folders = sorted(e.name for e in os.scandir(split_dir) if e.is_dir())
    missing = [c for c in CLASSES if c not in folders]
    extra = [f for f in folders if f not in CLASSES]
    if missing or extra:
        found = f'lacks the class folders {missing}' if missing else ''
        found += ' and ' if missing and extra else ''
        found += f'has other folders {extra}' if extra else ''
        raise FileNotFoundError(
            f'CIFAR-10 image folder {split_dir} {found}: {layout}')
    empty = [
        c for c in CLASSES
        if not _has_image(osp.join(split_dir, c), extensions)
    ]
    if empty:
        raise FileNotFoundError(
            f'CIFAR-10 image folder {split_dir}: the class folders {empty} '
            f'hold no images ({", ".join(extensions)}): {layout}')


def _folder_dataset(dataset: dict, root: str) -> ConfigDict:
    split = dataset.get('split', 'test' if dataset.get('test_mode') else
                        'train')
    if split not in ('train', 'test'):
        raise ValueError(f"{ENV_VAR}: CIFAR10 split must be 'train' or "
                         f"'test', got {split!r}")
    check_image_folder(root, split,
                       dataset.get('extensions', IMG_EXTENSIONS))
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


def _rewrite(node: Any, root: str, only_root: Optional[str] = None) -> Any:
    if isinstance(node, dict):
        if node.get('type') in CIFAR10_TYPES and (
                only_root is None or node.get('data_root') == only_root):
            return _folder_dataset(node, root)
        return type(node)(
            {k: _rewrite(v, root, only_root)
             for k, v in node.items()})
    if isinstance(node, (list, tuple)):
        return type(node)(_rewrite(v, root, only_root) for v in node)
    return node


def _cifar10_roots(node: Any) -> List[str]:
    if isinstance(node, dict):
        if node.get('type') in CIFAR10_TYPES:
            return [node.get('data_root', '')]
        return [r for v in node.values() for r in _cifar10_roots(v)]
    if isinstance(node, (list, tuple)):
        return [r for v in node for r in _cifar10_roots(v)]
    return []


def looks_like_image_folder(root: str) -> bool:
    """Whether ``root`` has a ``train/`` or ``test/`` folder and not the
    official pickles: an image-folder copy, complete or not."""
    return ((osp.isdir(osp.join(root, 'train'))
             or osp.isdir(osp.join(root, 'test')))
            and not osp.isdir(osp.join(root, 'cifar-10-batches-py')))


def is_cifar10_folder(root: str) -> bool:
    """Whether ``root`` holds ``{train,test}/<class>/`` image folders and
    not the official pickles (``cifar-10-batches-py``)."""
    return (osp.isdir(osp.join(root, 'train', CLASSES[0]))
            and osp.isdir(osp.join(root, 'test', CLASSES[0]))
            and not osp.isdir(osp.join(root, 'cifar-10-batches-py')))


def prepare_script() -> Optional[str]:
    """``tools/dataset_converters/prepare_cifar10.sh`` of the repository
    this package runs from (None for an installed copy without it)."""
    script = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        'tools', 'dataset_converters', 'prepare_cifar10.sh')
    return script if osp.isfile(script) else None


def lay_out_offline_copy(root: str) -> bool:
    """Lay out ``data/cifar10`` of the repository from the offline copy
    with the repository's script; whether it is there afterwards."""
    script = prepare_script()
    repo = osp.dirname(osp.dirname(osp.dirname(script))) if script else None
    if script is None or osp.abspath(root) != osp.join(
            repo, 'data', 'cifar10'):
        return False
    done = subprocess.run(['bash', script], capture_output=True, text=True)
    if done.returncode == 0 and is_cifar10_folder(root):
        print_log(f'CIFAR-10 laid out at {root} from the offline copy '
                  f'({osp.relpath(script, repo)})', logger='current')
        return True
    return False


def use_cifar10_folders_found(cfg: Config) -> Config:
    """Read every ``CIFAR10`` dataset whose ``data_root`` is an image-folder
    copy from it (laying ``data/cifar10`` out from the offline copy first
    when it is missing); other datasets are left to MMPretrain. A root
    with ``train/`` or ``test/`` but without the class folders or images
    raises (:func:`check_image_folder`)."""
    roots = set()
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        roots.update(_cifar10_roots(cfg.get(key)))
    for root in sorted(r for r in roots if r):
        if not osp.exists(root):
            lay_out_offline_copy(root)
        if looks_like_image_folder(root):  # an incomplete one raises
            cfg = use_cifar10_folder(cfg, root, only_root=root)
            print_log(f'{root}: CIFAR-10 image folders, read with '
                      'CustomDataset', logger='current', level=logging.INFO)
    return cfg


def use_cifar10_folder(cfg: Config, root: str,
                       only_root: Optional[str] = None) -> Config:
    """Replace every ``CIFAR10`` dataset in the dataloaders of ``cfg`` (or
    those on ``data_root=only_root``) by a ``CustomDataset`` on
    ``root/{train,test}`` with the same pipeline; the folder of each split
    used is checked first (:func:`check_image_folder`)."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            cfg[key] = _rewrite(cfg[key], root, only_root)
    return cfg

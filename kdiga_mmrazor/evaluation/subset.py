"""A fixed, seeded evaluation subset whose samples know their index.

AutoAttack on a whole test set is expensive, so robust evaluations use a
subset (RobustBench: the first 1,000 CIFAR-10 test images). Ours is drawn
with a seeded generator, optionally class-balanced, and is the same on
every rank and every run with the same seed. Each sample carries its index
in the *full* dataset (``sample_idx`` in its data sample's metainfo): the
subset is traceable, and metrics de-duplicate by it under DDP.
"""
import hashlib
import logging
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.registry import DATASETS
from torch.utils.data import Dataset


def dataset_labels(dataset) -> np.ndarray:
    """Ground-truth labels of a single-label dataset, without loading
    images when the dataset can tell (MMPretrain's ``get_gt_labels`` or
    ``get_cat_ids``)."""
    if hasattr(dataset, 'get_gt_labels'):
        return np.asarray(dataset.get_gt_labels()).reshape(-1)
    if hasattr(dataset, 'get_cat_ids'):
        return np.array([dataset.get_cat_ids(i)[0]
                         for i in range(len(dataset))])
    print_log(
        f'{type(dataset).__name__} has neither get_gt_labels nor '
        'get_cat_ids: loading every sample to read its label',
        logger='current',
        level=logging.WARNING)
    return np.array([
        int(dataset[i]['data_samples'].gt_label.view(-1)[0])
        for i in range(len(dataset))
    ])


def select_subset(size: int,
                  num_samples: Optional[int],
                  labels: Optional[Sequence[int]] = None,
                  seed: int = 0,
                  owner: str = 'select_subset') -> List[int]:
    """Sorted indices of a seeded random subset of ``range(size)``.

    Args:
        size (int): Samples in the dataset.
        num_samples (int, optional): Samples to keep; None keeps all.
        labels (Sequence[int], optional): Per-sample labels for a
            class-balanced subset: ``num_samples // C`` per class (the
            first ``num_samples % C`` classes in label order get one more),
            each class's share drawn at random. None draws uniformly.
        seed (int): Seed of the draw. Defaults to 0.
        owner (str): Who asks, for error messages.
    """
    if num_samples is None:
        return list(range(size))
    if not (isinstance(num_samples, int) and 0 < num_samples <= size):
        raise ValueError(
            f'{owner}: num_samples must be an int in [1, {size}] (the '
            f'dataset size) or None for all, got {num_samples!r}')
    gen = torch.Generator().manual_seed(seed)
    if labels is None:
        perm = torch.randperm(size, generator=gen)[:num_samples]
        return sorted(perm.tolist())
    labels = np.asarray(labels)
    classes = np.unique(labels)
    per_class, extra = divmod(num_samples, len(classes))
    chosen: List[int] = []
    for k, cls in enumerate(classes):
        members = np.flatnonzero(labels == cls)
        take = per_class + (1 if k < extra else 0)
        if take > len(members):
            raise ValueError(
                f'{owner}: a class-balanced subset of {num_samples} needs '
                f'{take} samples of class {cls}, which has {len(members)}; '
                'lower num_samples or set balanced=False')
        perm = torch.randperm(len(members), generator=gen)[:take].numpy()
        chosen += members[perm].tolist()
    return sorted(chosen)


def indices_digest(indices: Sequence[int]) -> str:
    """sha256 of the comma-joined indices: compare subsets at a glance."""
    text = ','.join(str(int(i)) for i in indices)
    return hashlib.sha256(text.encode()).hexdigest()


class IndexedSubset(Dataset):
    """``dataset[indices[i]]``, its data sample told ``sample_idx =
    indices[i]``.

    Args:
        dataset (Dataset): Yields dicts whose ``data_samples`` has
            ``set_metainfo`` (MMPretrain's ``DataSample``).
        indices (Sequence[int]): Indices into ``dataset``.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    @property
    def metainfo(self) -> Dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        index = self.indices[i]
        item = self.dataset[index]
        samples = item.get('data_samples') if isinstance(item, dict) else None
        if hasattr(samples, 'set_metainfo'):
            samples.set_metainfo(dict(sample_idx=index))
        return item


def indexed_dataloader(dataloader,
                       num_samples: Optional[int],
                       balanced: bool,
                       seed: int,
                       owner: str) -> Tuple[object, Dict]:
    """A dataloader config whose dataset is an :class:`IndexedSubset` of
    the selected indices (:func:`select_subset`), and a record of the
    selection. A built ``DataLoader`` is returned as is (its data samples
    must carry ``sample_idx`` already), and then ``num_samples`` must be
    None.
    """
    info = dict(num_samples=num_samples, balanced=balanced, seed=seed)
    if not isinstance(dataloader, dict):
        if num_samples is not None:
            raise ValueError(
                f'{owner}: num_samples needs the dataloader as a config '
                f'dict (it subsets the dataset); got a built '
                f'{type(dataloader).__name__}')
        return dataloader, info
    dataloader = dict(dataloader)
    dataset = dataloader['dataset']
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    labels = None
    if balanced and num_samples is not None:
        labels = dataset_labels(dataset)
    indices = select_subset(len(dataset), num_samples, labels, seed, owner)
    info.update(
        dataset_size=len(dataset),
        selected=len(indices),
        indices_sha256=indices_digest(indices))
    dataloader['dataset'] = IndexedSubset(dataset, indices)
    return dataloader, info

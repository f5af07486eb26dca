"""Seeded, fixed, optionally class-balanced subsets that know their
indices."""
from collections import Counter

import numpy as np
import pytest

from kdiga_mmrazor.evaluation import IndexedSubset, select_subset

from .conftest import RobustToyDataset


def test_subset_is_fixed_by_seed_and_sorted():
    first = select_subset(100, 10, seed=3)
    assert first == select_subset(100, 10, seed=3)
    assert first == sorted(first) and len(set(first)) == 10
    assert first != select_subset(100, 10, seed=4)


def test_none_keeps_everything_in_order():
    assert select_subset(5, None) == [0, 1, 2, 3, 4]


def test_balanced_subset_takes_equal_shares_remainder_to_first_classes():
    labels = np.arange(30) % 3  # 10 per class
    chosen = select_subset(30, 7, labels, seed=0)
    # 7 = 3 classes × 2 + 1: class 0 gets the extra sample
    assert Counter(labels[chosen].tolist()) == {0: 3, 1: 2, 2: 2}
    assert chosen == select_subset(30, 7, labels, seed=0)


def test_balanced_subset_too_large_for_a_class_names_the_fix():
    labels = np.array([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match='class 1.*balanced=False'):
        select_subset(12, 6, labels, owner='RobustTestLoop')


def test_num_samples_out_of_range_names_key_and_size():
    with pytest.raises(ValueError, match=r'RobustTestLoop: num_samples .*'
                       r'\[1, 12\].*got 13'):
        select_subset(12, 13, owner='RobustTestLoop')


def test_indexed_subset_tells_samples_their_dataset_index():
    subset = IndexedSubset(RobustToyDataset(n=12), [7, 2])
    assert len(subset) == 2
    assert subset[0]['data_samples'].metainfo['sample_idx'] == 7
    assert subset[1]['data_samples'].metainfo['sample_idx'] == 2
    assert int(subset[0]['data_samples'].gt_label) == 7 % 3
    assert subset.metainfo == RobustToyDataset().metainfo

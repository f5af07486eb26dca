"""batch_targets: labels and dataset indices of MMPretrain data samples."""
import pytest
import torch
from mmpretrain.structures import DataSample

from kdiga_mmrazor.evaluation.targets import batch_targets


def test_labels_and_indices_in_batch_order():
    samples = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(label)
               for i, label in ((7, 2), (3, 0), (9, 1))]
    y, idx = batch_targets(samples, torch.device('cpu'), 'owner')
    assert y.tolist() == [2, 0, 1] and idx == [7, 3, 9]


def test_missing_samples_or_indices_name_the_fix():
    with pytest.raises(ValueError, match='owner: batches need data samples'):
        batch_targets(None, torch.device('cpu'), 'owner')
    with pytest.raises(ValueError, match="keep 'sample_idx'"):
        batch_targets([DataSample().set_gt_label(1)], torch.device('cpu'),
                      'owner')

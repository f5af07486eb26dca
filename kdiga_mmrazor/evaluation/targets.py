"""Labels and dataset indices of a batch's MMPretrain data samples."""
from typing import List, Optional, Sequence, Tuple

import torch


def batch_targets(data_samples: Optional[Sequence],
                  device: torch.device,
                  owner: str) -> Tuple[torch.Tensor, List[int]]:
    """Labels ``y`` (B,) and dataset indices of MMPretrain data samples.

    Raises:
        ValueError: no data samples, or one without ``sample_idx``.
    """
    if not data_samples:
        raise ValueError(
            f'{owner}: batches need data samples with gt_label '
            '(MMPretrain datasets give them)')
    labels, indices = [], []
    for sample in data_samples:
        if 'sample_idx' not in sample.metainfo:
            raise ValueError(
                f'{owner}: a data sample has no sample_idx; give the '
                'dataloader as a config dict (the loop indexes its '
                "samples), or keep 'sample_idx' in PackInputs' meta_keys")
        labels.append(int(sample.gt_label.view(-1)[0]))
        indices.append(int(sample.metainfo['sample_idx']))
    return torch.tensor(labels, device=device), indices

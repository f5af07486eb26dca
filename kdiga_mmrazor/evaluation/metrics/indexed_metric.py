"""Per-sample results gathered across ranks, each sample counted once.

MMEngine's ``collect_results`` interleaves the ranks' results and cuts the
list at the dataset size, which is right only for an unshuffled
``DefaultSampler``. Results here carry the dataset index of their sample
(``sample_idx``), so the gathered list is de-duplicated by index instead:
the copies ``DefaultSampler`` pads the last rank with are dropped whatever
the sampler's order.
"""
import logging
from typing import Any, Dict, List, Sequence

from mmengine.dist import (
    all_gather_object,
    broadcast_object_list,
    get_world_size,
    is_main_process,
)
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log


def unique_by_index(results: Sequence[Dict[str, Any]],
                    key: str = 'sample_idx') -> List[Dict[str, Any]]:
    """The first result of each ``key`` value, sorted by it."""
    unique: Dict[int, Dict[str, Any]] = {}
    for result in results:
        unique.setdefault(int(result[key]), result)
    return [unique[i] for i in sorted(unique)]


def gather_unique(results: List[Dict[str, Any]],
                  key: str = 'sample_idx') -> List[Dict[str, Any]]:
    """Every rank's results (``mmengine.dist``), de-duplicated by ``key``.

    Works without a process group too (then only de-duplicates).
    """
    if get_world_size() > 1:
        parts = all_gather_object(results)
        results = [r for part in parts for r in part]
    return unique_by_index(results, key)


class IndexedMetric(BaseMetric):
    """A metric over per-sample result dicts that carry ``sample_idx``.

    Subclasses implement ``process`` (append one dict per sample, values on
    the CPU) and ``compute_metrics`` on the gathered, de-duplicated list.
    """

    def evaluate(self, size: int) -> dict:
        """Gather, de-duplicate, compute on rank 0, broadcast.

        Args:
            size (int): Samples the dataloader holds; a mismatch with the
                number of distinct ``sample_idx`` gathered is reported.
        """
        results = gather_unique(self.results)
        self.results.clear()
        if is_main_process():
            if len(results) != size:
                print_log(
                    f'{type(self).__name__}: gathered {len(results)} '
                    f'distinct samples, the dataloader holds {size}; the '
                    'metrics are over the gathered ones',
                    logger='current',
                    level=logging.WARNING)
            metrics = self.compute_metrics(results)
            if self.prefix:
                metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
            payload = [metrics]
        else:
            payload = [None]
        broadcast_object_list(payload)
        return payload[0]

"""Certified accuracy of a smoothed classifier at given L2 radii."""
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.dist import broadcast_object_list
from mmengine.registry import METRICS

from .indexed_metric import IndexedMetric

ABSTAIN = -1


def radius_key(radius: float) -> str:
    """``0.5 → 'certified_acc_r0.5'``: the key of a radius (no ``@``,
    which TensorBoard and MLflow refuse in tags)."""
    return f'certified_acc_r{radius:g}'


@METRICS.register_module()
class CertifiedAccuracy(IndexedMetric):
    r"""Certified accuracy at each radius, smoothed accuracy, abstentions
    (percent).

    For :math:`N` distinct samples (gathered across ranks, each counted
    once by its dataset index) with labels :math:`y_i`, certified
    predictions :math:`\hat y_i` (:math:`-1` = abstain) and certified L2
    radii :math:`R_i`:

    .. math::
        \mathrm{certified\_acc}(r) = \frac{100}{N} \sum_i
        [\hat y_i = y_i]\,[R_i \ge r], \qquad
        \mathrm{smoothed\_acc} = \frac{100}{N} \sum_i [\hat y_i = y_i],
        \qquad \mathrm{abstain} = \frac{100}{N} \sum_i [\hat y_i = -1].

    Abstentions count as wrong; ``smoothed_acc`` is the certified
    accuracy at radius 0 (every certificate has :math:`R_i \ge 0`).
    The bound :math:`R_i \ge r` is inclusive (Cohen et al. 2019 plot
    "radius :math:`\ge r`").

    Keys (with the default prefix): ``robust/{name}/certified_acc_r{r}``
    for each radius (``{r:g}``: ``r0``, ``r0.25``), ``robust/{name}/
    smoothed_acc`` and ``robust/{name}/abstain``; the ``acc`` of the
    accuracies lets ``CheckpointHook(save_best=...)`` infer
    ``rule='greater'``.

    ``process`` takes one dict per sample::

        dict(sample_idx=17, label=3, prediction=3, radius=0.41)

    Args:
        name (str): The certifier's name, the middle of the keys.
        radii (Sequence[float]): Radii to report. Defaults to
            ``(0.0, 0.25, 0.5, 0.75, 1.0)``.
        collect_device (str): Unused (results are gathered as Python
            objects); kept for MMEngine's signature. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to ``'robust'``
            (``'teacher/robust'`` for a distillation teacher).

    Example:
        >>> CertifiedAccuracy.calculate(
        ...     torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, -1, 0]),
        ...     torch.tensor([0.3, 0.6, 0.0, 0.9]), radii=(0.0, 0.5))
        {'certified_acc_r0': 50.0, 'certified_acc_r0.5': 25.0,
         'smoothed_acc': 50.0, 'abstain': 25.0}
    """
    default_prefix: Optional[str] = 'robust'

    def __init__(self,
                 name: str,
                 radii: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.name = str(name)
        self.radii = [float(r) for r in radii]
        self.num_samples: Optional[int] = None

    def process(self, data_batch: Any,
                data_samples: Sequence[Dict[str, Any]]) -> None:
        """Store one result per sample (``sample_idx``, ``label``,
        ``prediction``, ``radius``), as Python values."""
        for sample in data_samples:
            self.results.append(
                dict(
                    sample_idx=int(sample['sample_idx']),
                    label=int(sample['label']),
                    prediction=int(sample['prediction']),
                    radius=float(sample['radius'])))

    def compute_metrics(self, results: List[Dict[str, Any]]) -> dict:
        self.num_samples = len(results)
        metrics = self.calculate(
            torch.tensor([r['label'] for r in results], dtype=torch.long),
            torch.tensor([r['prediction'] for r in results],
                         dtype=torch.long),
            torch.tensor([r['radius'] for r in results],
                         dtype=torch.float64), self.radii)
        return {f'{self.name}/{k}': v for k, v in metrics.items()}

    def evaluate(self, size: int) -> dict:
        """:meth:`IndexedMetric.evaluate`; also keeps the number of
        distinct samples certified (:attr:`num_samples`) on every rank."""
        metrics = super().evaluate(size)
        payload = [self.num_samples]
        broadcast_object_list(payload)
        self.num_samples = payload[0]
        return metrics

    @staticmethod
    def calculate(labels: torch.Tensor, predictions: torch.Tensor,
                  radii_of_samples: torch.Tensor,
                  radii: Sequence[float]) -> Dict[str, float]:
        """Percentages from per-sample certificates.

        Args:
            labels (Tensor): ``(N,)`` ground truth.
            predictions (Tensor): ``(N,)`` certified predictions, ``-1``
                for an abstention.
            radii_of_samples (Tensor): ``(N,)`` certified radii.
            radii (Sequence[float]): Radii to report.

        Returns:
            dict[str, float]: ``certified_acc_r{r}`` per radius, then
            ``smoothed_acc`` and ``abstain``.
        """
        n = labels.numel()
        if n == 0:
            raise ValueError('CertifiedAccuracy: no samples to evaluate; '
                             'check the dataloader and num_samples')
        correct = predictions == labels
        metrics = {}
        for radius in radii:
            certified = correct & (radii_of_samples >= radius)
            metrics[radius_key(radius)] = 100 * int(certified.sum()) / n
        metrics['smoothed_acc'] = 100 * int(correct.sum()) / n
        metrics['abstain'] = 100 * int((predictions == ABSTAIN).sum()) / n
        return metrics

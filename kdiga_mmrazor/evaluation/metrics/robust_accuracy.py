"""Clean and adversarial accuracy, one number per attack, in percent."""
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.registry import METRICS

from .indexed_metric import IndexedMetric


@METRICS.register_module()
class RobustAccuracy(IndexedMetric):
    r"""Clean accuracy and robust accuracy under each attack (percent).

    For :math:`N` distinct samples (gathered across ranks, each counted once
    by its dataset index), clean predictions :math:`\hat y_i` and
    predictions :math:`\hat y^a_i` on the adversarial image of attack
    :math:`a`:

    .. math::
        \mathrm{clean\_acc} = \frac{100}{N} \sum_i [\hat y_i = y_i], \qquad
        \mathrm{acc}_a = \frac{100}{N} \sum_i [\hat y_i = y_i] \,
        [\hat y^a_i = y_i]

    A sample is robust only if it is also classified correctly when clean
    (RobustBench's convention; :class:`RobustValLoop` attacks only those).

    Keys (with the default prefix): ``robust/clean_acc`` and
    ``robust/{attack.name}/acc``, e.g. ``robust/pgd20_linf_8/acc``; the
    ``acc`` in them lets ``CheckpointHook(save_best=...)`` infer
    ``rule='greater'``.

    :class:`RobustValLoop` builds and feeds this metric; ``process`` takes
    one dict per sample::

        dict(sample_idx=17, clean=True, adv=dict(pgd20_linf_8=False))

    Args:
        attack_names (Sequence[str]): Names of the attacks, the order of
            the keys. Defaults to ``()`` (the names found in the results).
        collect_device (str): Unused (results are gathered as Python
            objects); kept for MMEngine's signature. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to ``'robust'``
            (``'teacher/robust'`` for a distillation teacher).

    Example:
        >>> RobustAccuracy.calculate(
        ...     torch.tensor([True, True, False, True]),
        ...     dict(pgd20_linf_8=torch.tensor([True, False, True, False])))
        {'clean_acc': 75.0, 'pgd20_linf_8/acc': 25.0}
    """
    default_prefix: Optional[str] = 'robust'

    def __init__(self,
                 attack_names: Sequence[str] = (),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.attack_names = list(attack_names)

    def process(self, data_batch: Any,
                data_samples: Sequence[Dict[str, Any]]) -> None:
        """Store one result per sample (``sample_idx``, ``clean``,
        ``adv``), as Python values."""
        for sample in data_samples:
            self.results.append(
                dict(
                    sample_idx=int(sample['sample_idx']),
                    clean=bool(sample['clean']),
                    adv={k: bool(v)
                         for k, v in sample['adv'].items()}))

    def compute_metrics(self, results: List[Dict[str, Any]]) -> dict:
        names = list(self.attack_names)
        for result in results:
            names += [n for n in result['adv'] if n not in names]
        clean = torch.tensor([r['clean'] for r in results], dtype=torch.bool)
        adv = {
            name: torch.tensor([r['adv'][name] for r in results],
                               dtype=torch.bool)
            for name in names
        }
        return self.calculate(clean, adv)

    @staticmethod
    def calculate(clean: torch.Tensor,
                  adv: Dict[str, torch.Tensor]) -> Dict[str, float]:
        """Accuracies in percent from per-sample correctness.

        Args:
            clean (Tensor): ``(N,)`` bool, clean prediction correct.
            adv (dict[str, Tensor]): Attack name ↦ ``(N,)`` bool,
                prediction on its adversarial image correct.

        Returns:
            dict[str, float]: ``clean_acc`` and ``{name}/acc``.
        """
        if clean.numel() == 0:
            raise ValueError('RobustAccuracy: no samples to evaluate; check '
                             'the dataloader and num_samples')
        n = clean.numel()
        metrics = {'clean_acc': 100 * int(clean.sum()) / n}
        for name, correct in adv.items():
            metrics[f'{name}/acc'] = 100 * int((clean & correct).sum()) / n
        return metrics

"""Means of the per-sample diagnostics of
:mod:`kdiga_mmrazor.evaluation.diagnostics` (local linearity, bounds,
gradient misalignment)."""
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.registry import METRICS

from ..diagnostics import first_order_bound, transfer_bound
from .indexed_metric import IndexedMetric

FIELDS = ('clean_loss', 'grad_l1', 'local_linearity', 'grad_misalign_l1',
          'grad_misalign_l2', 'grad_cos_sim', 'teacher_grad_l1')
REPORTED = ('clean_loss', 'grad_l1', 'local_linearity', 'first_order_bound',
            'grad_misalign_l1', 'grad_misalign_l2', 'grad_cos_sim',
            'transfer_bound')


@METRICS.register_module()
class RobustDiagnostics(IndexedMetric):
    r"""Sample means of the robustness diagnostics of the KDIGA paper.

    For :math:`N` distinct samples, loss :math:`\ell = \mathrm{CE}`, input
    gradients :math:`g_s` (this model) and :math:`g_t` (the teacher), all
    in pixel space, and the L∞ radius :math:`\epsilon` of ``eps``, each key
    is the mean over samples of:

    ======================= =============================================
    key                     per-sample value
    ======================= =============================================
    ``clean_loss``          :math:`\ell(x)`
    ``grad_l1``             :math:`\|g_s\|_1`
    ``local_linearity``     :math:`\gamma(\epsilon, x)` (Qin et al.)
    ``first_order_bound``   :math:`\ell + \epsilon \|g_s\|_1 + \gamma`
    ``grad_misalign_l1``    :math:`\|g_s - g_t\|_1`
    ``grad_misalign_l2``    :math:`\|g_s - g_t\|_2`
    ``grad_cos_sim``        :math:`\cos(g_s, g_t)`
    ``transfer_bound``      :math:`\ell + \epsilon \|g_t\|_1 +
                            \epsilon \|g_s - g_t\|_1 + \gamma`
    ======================= =============================================

    Lower is better for every key but ``grad_cos_sim`` (higher is better).
    Keys appear when their inputs are present in the results (the
    misalignment ones need a teacher). With the default prefix they read
    ``robust/local_linearity`` etc. As ``save_best`` keys they need an
    explicit rule, e.g. ``CheckpointHook(save_best='robust/local_linearity',
    rule='less')`` (only ``clean_loss`` is inferred, from its ``loss``).

    :class:`RobustValLoop` builds and feeds this metric (``diagnostics=``);
    ``process`` takes one dict per sample with ``sample_idx`` and any of
    ``clean_loss``, ``grad_l1``, ``local_linearity``, ``grad_misalign_l1``,
    ``grad_misalign_l2``, ``grad_cos_sim``, ``teacher_grad_l1``.

    Args:
        eps (float): ε of the bounds, L∞, ``[0, 1]`` scale (``8 / 255``).
        collect_device (str): Unused; MMEngine's signature.
            Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to ``'robust'``.
    """
    default_prefix: Optional[str] = 'robust'

    def __init__(self,
                 eps: float,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.eps = float(eps)

    def process(self, data_batch: Any,
                data_samples: Sequence[Dict[str, Any]]) -> None:
        for sample in data_samples:
            result = dict(sample_idx=int(sample['sample_idx']))
            result.update({
                k: float(sample[k])
                for k in FIELDS if sample.get(k) is not None
            })
            self.results.append(result)

    def compute_metrics(self, results: List[Dict[str, Any]]) -> dict:
        values = {
            k: torch.tensor([r[k] for r in results], dtype=torch.float64)
            for k in FIELDS if results and all(k in r for r in results)
        }
        return self.calculate(values, self.eps)

    @staticmethod
    def calculate(values: Dict[str, torch.Tensor],
                  eps: float) -> Dict[str, float]:
        """Means of the per-sample ``values`` (field ↦ ``(N,)`` tensor) and
        of the bounds they determine (see the table above)."""
        values = dict(values)
        if all(k in values for k in ('clean_loss', 'grad_l1',
                                     'local_linearity')):
            values['first_order_bound'] = first_order_bound(
                values['clean_loss'], values['grad_l1'], eps,
                values['local_linearity'])
        if all(k in values for k in ('clean_loss', 'teacher_grad_l1',
                                     'grad_misalign_l1', 'local_linearity')):
            values['transfer_bound'] = transfer_bound(
                values['clean_loss'], values['teacher_grad_l1'],
                values['grad_misalign_l1'], eps, values['local_linearity'])
        return {
            k: values[k].mean().item()
            for k in REPORTED if k in values
        }

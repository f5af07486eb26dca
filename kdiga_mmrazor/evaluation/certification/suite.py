"""The certifiers of one robust evaluation, run on every member.

:class:`CertificationSuite` is what :class:`~kdiga_mmrazor.evaluation.
RobustEvaluator` holds for its ``certification`` option: the built
certifiers and, per member, one :class:`~kdiga_mmrazor.evaluation.
CertifiedAccuracy` per certifier under the member's prefix
(``robust/{name}/...``, ``teacher/robust/{name}/...``).
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.registry import METRICS
from torch import nn

from .builder import build_certifiers


class CertificationSuite:
    """Certify every sample of each batch for each member.

    Args:
        cfgs (dict | Sequence, optional): Certifier configs for
            :data:`kdiga_mmrazor.registry.CERTIFIERS` (or built
            certifiers); one dict is one certifier. None: none.
        owner (str): Names the component in errors.
        attack_names (Sequence[str]): Names the certifiers must not take
            (the attacks' keys sit beside theirs). Defaults to ``()``.
    """

    def __init__(self,
                 cfgs: Optional[Union[Dict, Sequence]],
                 owner: str = 'RobustEvaluator',
                 attack_names: Sequence[str] = ()) -> None:
        self.owner = owner
        self.certifiers = build_certifiers(cfgs, f'{owner}: certification')
        taken = sorted(set(self.names) & set(attack_names))
        if taken:
            raise ValueError(
                f'{owner}: certification names {taken} are attack names '
                'too (the metric keys would mix); set name=... in the '
                'certifier configs')
        self.metrics: Dict[str, Dict[str, object]] = {}

    def __bool__(self) -> bool:
        return bool(self.certifiers)

    @property
    def names(self) -> List[str]:
        """The certifiers' names (the middle of their metric keys)."""
        return [c.name for c in self.certifiers]

    def start(self, prefixes: Dict[str, str],
              num_images: Optional[int] = None) -> None:
        """Fresh metrics for each member (``member ↦ key prefix``), and
        each certifier told the certifications to come: ``num_images``
        (this rank's images) times the number of members, for its ETA."""
        self.metrics = {
            member: {
                c.name: METRICS.build(
                    dict(type='CertifiedAccuracy', name=c.name,
                         radii=getattr(c, 'radii', (0.0, )), prefix=prefix))
                for c in self.certifiers
            }
            for member, prefix in prefixes.items()
        }
        total = None if num_images is None else num_images * len(prefixes)
        for certifier in self.certifiers:
            if hasattr(certifier, 'start'):
                certifier.start(total)

    def process(self, member: str, model: nn.Module, x: torch.Tensor,
                y: torch.Tensor, sample_idx: Sequence[int]
                ) -> Dict[str, List[Dict]]:
        """Certify every image of the batch (correctly classified or not)
        with each certifier and feed the member's metrics.

        Returns:
            dict: certifier name ↦ its per-sample results (with
            ``label``).
        """
        labels = y.tolist()
        out = {}
        for certifier in self.certifiers:
            results = [
                dict(result, label=labels[j]) for j, result in enumerate(
                    certifier.certify(model, x, sample_idx))
            ]
            self.metrics[member][certifier.name].process(None, results)
            out[certifier.name] = results
        return out

    def compute(self, size: int) -> Dict[str, float]:
        """Every member's certified metrics (gathered across ranks)."""
        metrics: Dict[str, float] = {}
        for member_metrics in self.metrics.values():
            for metric in member_metrics.values():
                metrics.update(metric.evaluate(size))
        return metrics

    def settings(self) -> List[Dict]:
        """Each certifier's settings, with ``num_images``: the distinct
        images its last evaluation certified (per member)."""
        first = next(iter(self.metrics.values()), {})
        out = []
        for certifier in self.certifiers:
            settings = certifier.settings() if hasattr(
                certifier, 'settings') else dict(
                    type=type(certifier).__name__, name=certifier.name)
            metric = first.get(certifier.name)
            settings['num_images'] = getattr(metric, 'num_samples', None)
            out.append(settings)
        return out

"""``ConfigurableDistiller`` with KDIGA's logits and input-gradient records.
"""
import copy
from typing import Dict, List, Optional

import torch
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS

from ..losses import InputGradientAlignmentLoss
from ..recorders import KDIGAOutputsRecorder

# Recorders every KDIGA distiller has, on the student and on the teacher.
DEFAULT_RECORDERS = dict(
    logits=dict(type='KDIGAOutputs', source='logits'),
    input_grad=dict(type='KDIGAOutputs', source='input_grad'))


@MODELS.register_module()
class KDIGADistiller(ConfigurableDistiller):
    """MMRazor's ``ConfigurableDistiller`` plus KDIGA's two records.

    Both sides always have the recorders ``logits`` and ``input_grad``
    (:class:`KDIGAOutputsRecorder`), filled by ``KDIGADistill`` each step,
    so a config maps losses to them without knowing any module path. Everything
    else — other recorders, deliveries, connectors, ``distill_losses``
    (``KLDivergence``, ``DKDLoss``, feature losses…) and
    ``loss_forward_mappings`` — works as in ``ConfigurableDistiller``.

    Input gradients are computed only when a loss reads an ``input_grad``
    record, so the same algorithm runs plain KD at plain-KD cost.

    Args:
        student_recorders (dict, optional): Extra student recorders;
            ``logits``/``input_grad`` are added unless given.
        teacher_recorders (dict, optional): Likewise for the teacher.
        **kwargs: As ``ConfigurableDistiller``.

    Example:
        >>> distiller=dict(
        ...     type='KDIGADistiller',
        ...     distill_losses=dict(
        ...         loss_kl=dict(type='KLDivergence', tau=1,
        ...                      loss_weight=0.5),
        ...         loss_iga=dict(type='InputGradientAlignmentLoss',
        ...                       loss_weight=0.1)),
        ...     loss_forward_mappings=dict(
        ...         loss_kl=dict(
        ...             preds_S=dict(from_student=True, recorder='logits'),
        ...             preds_T=dict(from_student=False, recorder='logits')),
        ...         loss_iga=dict(
        ...             grad_S=dict(from_student=True,
        ...                         recorder='input_grad'),
        ...             grad_T=dict(from_student=False,
        ...                         recorder='input_grad'))))
    """

    def __init__(self,
                 student_recorders: Optional[Dict[str, Dict]] = None,
                 teacher_recorders: Optional[Dict[str, Dict]] = None,
                 **kwargs) -> None:
        super().__init__(
            student_recorders=self._with_defaults(student_recorders),
            teacher_recorders=self._with_defaults(teacher_recorders),
            **kwargs)
        self._check_alignment_mappings()

    @staticmethod
    def _with_defaults(recorders: Optional[Dict[str, Dict]]) -> Dict:
        merged = copy.deepcopy(DEFAULT_RECORDERS)
        merged.update(recorders or {})
        return merged

    def _kdiga_recorders(self, from_student: bool,
                         source: str) -> List[KDIGAOutputsRecorder]:
        manager = (
            self.student_recorders
            if from_student else self.teacher_recorders)
        return [
            r for r in manager.recorders.values()
            if isinstance(r, KDIGAOutputsRecorder) and r.source == source
        ]

    def _mapped_recorders(self):
        for loss_name, mapping in self.loss_forward_mappings.items():
            for arg, spec in mapping.items():
                manager = (
                    self.student_recorders
                    if spec['from_student'] else self.teacher_recorders)
                yield loss_name, arg, spec, manager.get_recorder(
                    spec['recorder'])

    @property
    def needs_input_gradients(self) -> bool:
        """Whether any loss reads an ``input_grad`` record."""
        return any(
            isinstance(rec, KDIGAOutputsRecorder)
            and rec.source == 'input_grad'
            for *_, rec in self._mapped_recorders())

    def _check_alignment_mappings(self) -> None:
        expected = dict(grad_S=True, grad_T=False)
        for loss_name, arg, spec, rec in self._mapped_recorders():
            loss = self.distill_losses[loss_name]
            if not isinstance(loss, InputGradientAlignmentLoss):
                continue
            ok = (isinstance(rec, KDIGAOutputsRecorder)
                  and rec.source == 'input_grad'
                  and spec['from_student'] == expected[arg])
            if not ok:
                side = 'student' if expected[arg] else 'teacher'
                raise ValueError(
                    f'KDIGADistiller: loss_forward_mappings.{loss_name}.'
                    f'{arg} must read the {side}\'s input gradient, i.e. '
                    f"dict(from_student={expected[arg]}, "
                    f"recorder='input_grad'); got {dict(spec)}")

    def record(self, from_student: bool, source: str,
               data: torch.Tensor) -> None:
        """Write one step's ``logits`` or ``input_grad`` to its recorders.
        """
        for recorder in self._kdiga_recorders(from_student, source):
            recorder.record(data)

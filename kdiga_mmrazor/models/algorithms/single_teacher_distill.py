r"""MMRazor's ``SingleTeacherDistill`` with its teacher verified and α one key.

MMRazor loads ``teacher_ckpt`` non-strictly (a checkpoint that matches no
key, or one of another architecture, leaves a random teacher and training
goes on), and it has no α: the :math:`(1 - \alpha)` of the student's task
loss lives in the student head's ``loss_weight``. This subclass is
registered in MMRazor's ``MODELS`` under MMRazor's own name, so every
config that says ``type='SingleTeacherDistill'`` gets it once
``custom_imports`` loads the plugin; everything else is MMRazor's.
"""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.registry import MODELS

from ...utils.frozen_eval import frozen_eval
from .kdiga_objective import apply_alpha, check_loss_weights, rescale_task_loss
from .teacher_weights import load_teacher, take_teacher_sources, watch_teacher

WHO = 'SingleTeacherDistill'


def _class_count(model: BaseModel, x: torch.Tensor) -> Optional[int]:
    with frozen_eval(model), torch.no_grad():
        out = model(x, mode='tensor')
    if isinstance(out, (tuple, list)):
        out = out[-1] if out else None
    return out.shape[-1] if isinstance(out, torch.Tensor) else None


@MODELS.register_module(name='SingleTeacherDistill', force=True)
class VerifiedSingleTeacherDistill(SingleTeacherDistill):
    r"""MMRazor's single-teacher distillation, teacher verified.

    The objective is MMRazor's: the student's task loss plus the
    distiller's losses, e.g. :math:`L = (1-\alpha)\,\mathrm{CE}(z_s, y) +
    \alpha\,\tau^2\,\mathrm{KL}(\mathrm{softmax}(z_t/\tau) \|
    \mathrm{softmax}(z_s/\tau))`. What differs from MMRazor's class:

    * the teacher is loaded at build, strictly, on CPU, pickle-free, sha256
      logged, from ``teacher_ckpt`` (whole-classifier or bare-backbone
      keys) or a ``Pretrained`` ``init_cfg`` of the teacher or its
      backbone, or the build fails naming the keys; later loads of this
      model's weights (``--resume``) must leave the teacher as loaded
      (see ``teacher_weights``; not checked when the teacher trains:
      ``teacher_trainable=True`` or ``teacher_norm_eval=False``);
    * ``alpha`` is one key, as in ``KDIGADistill``: the student's task loss
      is scaled to :math:`1 - \alpha` whatever its head's ``loss_weight``,
      and every ``KLDivergence`` distill loss gets the weight :math:`\alpha`;
    * loss weights must be finite (checked at build), and a student and
      teacher that give different class counts are refused on the first
      batch, before any loss is computed.

    Args:
        distiller (dict): A ``ConfigurableDistiller`` config.
        teacher (dict | BaseModel): The teacher classifier.
        teacher_ckpt (str, optional): The teacher's weights (see above).
        alpha (float, optional): α (see above). Defaults to None (the
            heads' and losses' own weights, as MMRazor).
        **kwargs: MMRazor's other arguments (``architecture``,
            ``teacher_trainable``, ``teacher_norm_eval``, ...).
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 alpha: Optional[float] = None,
                 **kwargs) -> None:
        if alpha is not None and isinstance(distiller, dict):
            distiller = apply_alpha(distiller, alpha, WHO)
        teacher, sources = take_teacher_sources(teacher, teacher_ckpt, WHO)
        super().__init__(
            distiller=distiller, teacher=teacher, teacher_ckpt=None, **kwargs)
        self.alpha = alpha
        check_loss_weights(self.distiller, self.architecture, WHO)
        digest, self.teacher_sha256 = load_teacher(self.teacher, sources,
                                                   WHO)
        # a trainable teacher, or one whose BatchNorms train, changes
        frozen = not self.teacher_trainable and self.teacher_norm_eval
        watch_teacher(self, digest if frozen else None, WHO)
        self._classes_checked = False

    def _check_classes(self, batch_inputs: torch.Tensor) -> None:
        x = batch_inputs[:1]
        student, teacher = (_class_count(self.student, x),
                            _class_count(self.teacher, x))
        if None not in (student, teacher) and student != teacher:
            raise ValueError(
                f'{WHO}: the student gives {student} classes and the '
                f'teacher {teacher}; set num_classes of model.architecture '
                'and model.teacher to the same dataset')

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> Dict[str, torch.Tensor]:
        """MMRazor's losses, the student's task loss scaled to 1 − α."""
        if not self._classes_checked:
            self._check_classes(batch_inputs)
            self._classes_checked = True
        losses = super().loss(batch_inputs, data_samples)
        if self.alpha is None or not self.calculate_student_loss:
            return losses
        student = {
            k[len('student.'):]: v
            for k, v in losses.items() if k.startswith('student.')
        }
        scaled = rescale_task_loss(student, self.student, 1 - self.alpha,
                                   WHO)
        losses.update({f'student.{k}': v for k, v in scaled.items()})
        return losses

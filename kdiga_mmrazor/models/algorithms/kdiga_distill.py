r"""KDIGA: knowledge distillation with input gradient alignment.

From `How and When Adversarial Robustness Transfers in Knowledge
Distillation? <https://arxiv.org/abs/2110.12072>`_. Code consulted:
RulinShao/AdversariallyRobustDistillation (``main.py``, ``kdiga``), which
runs each model twice per step; here each runs once, and each model sees
the pixels through its own normalisation.
"""
from contextlib import nullcontext
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ...checkpoint import load_state_dict_checked
from ...ops.double_backward import FastDoubleBackward, sdpa_math_kernel
from ...utils.pixel_space import PixelSpaceClassifier, check_pixel_range
from .kdiga_inputs import (
    check_first_input_gradients,
    member_normalization,
    split_data_preprocessor,
    states_preprocessor,
    to_rgb_of,
)
from .kdiga_objective import (
    apply_alpha,
    at_least_fp32,
    check_loss_weights,
    classifier_task_loss,
    gather_targets,
    summed_cross_entropy,
)
from .teacher_weights import load_teacher, take_teacher_sources, watch_teacher


@MODELS.register_module()
class KDIGADistill(SingleTeacherDistill):
    r"""Single-teacher distillation with input gradient alignment (KDIGA).

    Each step, for the pixel-space batch :math:`x \in [0, 1]` from
    ``data_preprocessor`` and targets :math:`y`:

    .. math::
        z_t = f_t(\mathrm{norm}_t(x)),\quad
        g_t = \nabla_x \textstyle\sum_i \mathrm{CE}(z_{t,i}, y_i)
        \quad\text{(detached)}

        z_s = f_s(\mathrm{norm}_s(x)),\quad
        g_s = \nabla_x \textstyle\sum_i \mathrm{CE}(z_{s,i}, y_i)
        \quad\text{(create\_graph)}

    and the losses are the student's task loss on :math:`z_s` (weight it
    :math:`1-\alpha` in the student's head) plus the distiller's losses,
    which read :math:`z_s, z_t, g_s, g_t` from the ``logits`` and
    ``input_grad`` records (``KDIGADistiller``), e.g. ``KLDivergence`` and
    ``InputGradientAlignmentLoss``: the paper's
    :math:`L = \alpha T^2 \mathrm{KL} + (1-\alpha)\mathrm{CE} + \gamma\,
    \mathrm{IGA}`.

    One forward pass per model; the teacher's graph is freed as soon as
    :math:`g_t` exists; input gradients are fp32 (also under AMP); the
    student runs on SDPA's math kernel (fused attention kernels have no
    double backward) while its input gradient is taken, its convolutions
    and normalisations with closed-form double backwards, and the backward
    that gives :math:`g_s` computes no convolution or LayerNorm weight
    gradients. Without an ``input_grad`` loss no gradient is taken: plain KD
    at plain-KD cost.

    **Pixel space.** ``model.data_preprocessor`` must only scale to
    ``[0, 1]`` (``mean=[0, 0, 0], std=[255, 255, 255]``); each model's own
    mean/std stays in its own ``data_preprocessor``
    (``model.architecture.data_preprocessor``,
    ``model.teacher.data_preprocessor``), so a teacher and a student trained
    with different normalisations align in the same pixel space.

    **Teacher.** Frozen: every module in eval mode (BatchNorm, Dropout,
    DropPath), no parameter gradients (so DDP never syncs it), only
    :math:`\partial/\partial x` flows.

    Args:
        distiller (dict): A ``KDIGADistiller`` config.
        teacher (dict | BaseModel): The teacher classifier.
        teacher_ckpt (str, optional): Teacher weights, loaded strictly on
            CPU, pickle-free, sha256 logged. A whole-classifier checkpoint,
            or a bare-backbone one (keys get ``backbone.``). A ``Pretrained``
            ``init_cfg`` of the teacher or its backbone loads the same way
            (at build, strictly); after any later load of this model's
            weights (``--resume``, ``load_from``) the teacher's tensors must
            still equal what was loaded here (``teacher_weights``).
        student_ckpt (str, optional): Pre-trained student weights, loaded
            the same way (instead of the student's ``init_cfg``).
        teacher_input_size (tuple[int, int], optional): Resize the batch to
            this (H, W) for the teacher (bilinear, inside the gradient), when
            teacher and student take different resolutions. Defaults to None
            (same input).
        math_sdpa (bool): Run the student on SDPA's math kernel while its
            input gradient is needed. Defaults to True.
        fast_double_backward (bool): Build the student's convolutions,
            training-mode BatchNorms, LayerNorms and GELUs with closed-form
            double backwards (``kdiga_mmrazor.ops.double_backward``;
            same numbers, about 30% off a ResNet-20 step on CPU). Defaults
            to True.
        calculate_student_loss (bool): Add the student's own task loss.
            Defaults to True.
        alpha (float, optional): α of the objective, one key: the
            student's task loss is scaled to :math:`1 - α` whatever its
            head's ``loss_weight`` says, and every ``KLDivergence`` distill
            loss gets the weight :math:`α` (one that states another weight
            is refused). Defaults to None (the heads' and losses' own
            weights).
        **kwargs: ``architecture`` (the student), ``data_preprocessor``,
            ``init_cfg``; ``teacher_trainable=True`` and
            ``teacher_norm_eval=False`` are refused (the teacher is frozen
            and wholly in eval mode).

    Example:
        >>> model = dict(
        ...     _scope_='mmrazor', type='KDIGADistill',
        ...     data_preprocessor=dict(
        ...         type='mmpretrain.ClsDataPreprocessor', num_classes=10,
        ...         mean=[0, 0, 0], std=[255, 255, 255]),
        ...     architecture=student_cfg, teacher=teacher_cfg,
        ...     teacher_ckpt='checkpoints/abcrown_resnet4b_linf2.pth',
        ...     distiller=dict(type='KDIGADistiller', ...))
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 student_ckpt: Optional[str] = None,
                 teacher_input_size: Optional[Tuple[int, int]] = None,
                 math_sdpa: bool = True,
                 fast_double_backward: bool = True,
                 calculate_student_loss: bool = True,
                 alpha: Optional[float] = None,
                 **kwargs) -> None:
        who = type(self).__name__
        if kwargs.pop('teacher_trainable', False):
            raise ValueError(f'{who}: model.teacher_trainable=True is '
                             'not supported: the teacher is frozen')
        if not kwargs.pop('teacher_norm_eval', True):
            raise ValueError(
                f'{who}: model.teacher_norm_eval=False is not '
                'supported: the whole teacher is always in eval mode (its '
                'BatchNorm statistics never move); remove the key')
        self.alpha = alpha
        if alpha is not None and isinstance(distiller, dict):
            distiller = apply_alpha(distiller, alpha, who)
        stated = dict(
            student=states_preprocessor(kwargs.get('architecture', {})),
            teacher=states_preprocessor(teacher))
        teacher, teacher_sources = take_teacher_sources(
            teacher, teacher_ckpt, who)
        shared = None
        if not isinstance(kwargs.get('data_preprocessor'), nn.Module):
            kwargs['data_preprocessor'], shared = split_data_preprocessor(
                kwargs.get('data_preprocessor'))
        super().__init__(
            distiller=distiller,
            teacher=teacher,
            teacher_ckpt=None,
            teacher_trainable=False,
            teacher_norm_eval=True,
            calculate_student_loss=calculate_student_loss,
            **kwargs)
        if not hasattr(self.distiller, 'needs_input_gradients'):
            raise TypeError(
                f'{who}: model.distiller.type must be KDIGADistiller '
                f'(got {type(self.distiller).__name__})')
        check_loss_weights(self.distiller, self.architecture, who)
        digest, self.teacher_sha256 = load_teacher(
            self.teacher, teacher_sources, who)
        watch_teacher(self, digest, who)
        if student_ckpt:
            load_state_dict_checked(
                self.architecture,
                student_ckpt,
                who=f'{who}: model.student_ckpt',
                prefixes=('', 'backbone.'),
                hint='check model.architecture (type, backbone, '
                'num_classes)')
            self.architecture._is_init = True
        self.teacher_input_size = teacher_input_size
        self.math_sdpa = math_sdpa
        self.fast_double_backward = fast_double_backward
        algorithm_to_rgb = to_rgb_of(self.data_preprocessor)
        self._normalizers = {
            member: member_normalization(member, module, stated[member],
                                         shared, algorithm_to_rgb, who)
            for member, module in (('student', self.architecture),
                                   ('teacher', self.teacher))
        }
        self._pixels_checked = False
        self._grads_checked = False
        self.teacher.eval()

    # -- pixel-space views -------------------------------------------------
    def pixel_classifier(self,
                         member: str = 'student') -> PixelSpaceClassifier:
        """``x ∈ [0, 1] ↦ logits`` of the student or the teacher, each with
        its own normalisation (attacks and diagnostics use this)."""
        if member == 'student':
            return PixelSpaceClassifier(self.architecture,
                                        self._normalizers['student'])
        if member == 'teacher':
            return PixelSpaceClassifier(self.teacher,
                                        self._normalizers['teacher'],
                                        self.teacher_input_size)
        raise ValueError(f"member must be 'student' or 'teacher', got "
                         f'{member!r}')

    def _forward(self, batch_inputs, data_samples=None):
        return self.pixel_classifier('student')(batch_inputs)

    def _predict(self, batch_inputs, data_samples=None):
        x_norm = self._normalizers['student'](batch_inputs)
        return self.architecture(x_norm, data_samples, mode='predict')

    # -- training step -----------------------------------------------------
    def _teacher_step(self, x: torch.Tensor, target: torch.Tensor,
                      need_grad: bool) -> Tuple[torch.Tensor, Optional[
                          torch.Tensor]]:
        teacher = self.pixel_classifier('teacher')
        if not need_grad:
            with torch.no_grad():
                return teacher(x), None
        x_t = at_least_fp32(x.detach()).requires_grad_(True)
        with torch.enable_grad():
            z_t = teacher(x_t)
            (g_t, ) = torch.autograd.grad(
                summed_cross_entropy(z_t, target), x_t)
        return z_t.detach(), g_t.detach()

    def _student_step(self, x: torch.Tensor, target: torch.Tensor,
                      need_grad: bool) -> Tuple[torch.Tensor, Optional[
                          torch.Tensor]]:
        student = self.pixel_classifier('student')
        if not need_grad:
            return student(x), None
        x_s = at_least_fp32(x.detach()).requires_grad_(True)
        kernel = sdpa_math_kernel() if self.math_sdpa else nullcontext()
        fast = (FastDoubleBackward()
                if self.fast_double_backward else nullcontext())
        with kernel, fast:
            z_s = student(x_s)
            (g_s, ) = torch.autograd.grad(
                summed_cross_entropy(z_s, target), x_s, create_graph=True)
        return z_s, g_s

    def _detach_teacher_records(self) -> None:
        for recorder in self.distiller.teacher_recorders.recorders.values():
            if isinstance(recorder, ModuleOutputsRecorder):
                recorder._data_buffer = [
                    d.detach() if isinstance(d, torch.Tensor) else d
                    for d in recorder.data_buffer
                ]

    def _check_classes(self, z_s: torch.Tensor, z_t: torch.Tensor) -> None:
        if z_s.shape[1:] != z_t.shape[1:]:
            raise ValueError(
                f'{type(self).__name__}: the student gives {z_s.shape[1]} '
                f'classes and the teacher {z_t.shape[1]}; set num_classes '
                'of model.architecture and model.teacher to the same '
                'dataset')

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> Dict[str, torch.Tensor]:
        """KDIGA losses of a pixel-space batch (see the class docstring)."""
        if not self._pixels_checked:  # a config error shows on batch one
            check_pixel_range(type(self).__name__, batch_inputs)
            self._pixels_checked = True
        target = gather_targets(data_samples)
        need_grad = (self.distiller.needs_input_gradients
                     and not self.distillation_stopped)
        losses = dict()

        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            z_t, g_t = self._teacher_step(batch_inputs, target, need_grad)
        self._detach_teacher_records()

        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            z_s, g_s = self._student_step(batch_inputs, target, need_grad)
        self._check_classes(z_s, z_t)

        self.distiller.record(False, 'logits', z_t)
        self.distiller.record(True, 'logits', z_s)
        if need_grad and not self._grads_checked:
            check_first_input_gradients(dict(teacher=g_t, student=g_s),
                                        type(self).__name__)
            self._grads_checked = True
        if need_grad:
            self.distiller.record(False, 'input_grad', g_t)
            self.distiller.record(True, 'input_grad', g_s)
            cos = F.cosine_similarity(
                g_s.detach().flatten(1), g_t.flatten(1), dim=1, eps=1e-12)
            losses['distill.iga_cos_sim'] = cos.mean()

        if self.calculate_student_loss:
            losses.update(
                add_prefix(
                    classifier_task_loss(
                        self.student, z_s, data_samples,
                        None if self.alpha is None else 1 - self.alpha,
                        type(self).__name__),
                    'student'))
        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(),
                           'distill'))
        return losses

    def train(self, mode: bool = True) -> 'KDIGADistill':
        """Train the student; the teacher stays wholly in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

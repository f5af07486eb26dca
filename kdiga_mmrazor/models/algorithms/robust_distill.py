r"""Robust-distillation baselines: ARD, RSLAD, IAD and AdaAD, optionally with
IGDM's term and KDIGA's input-gradient alignment, from config.

Papers: ARD, Goldblum et al., `Adversarially Robust Distillation
<https://arxiv.org/abs/1905.09747>`_ (2020); RSLAD, Zi et al., `Revisiting
Adversarial Robustness Distillation: Robust Soft Labels Make Student Better
<https://arxiv.org/abs/2108.07969>`_ (2021); IAD, Zhu et al., `Reliable
Adversarial Distillation with Unreliable Teachers
<https://openreview.net/forum?id=u6TRGdzhfip>`_ (2022); AdaAD, Huang et
al., `Boosting Accuracy and Robustness of Student Models via Adaptive
Adversarial Distillation` (CVPR 2023); IGDM, Lee et al., `Indirect Gradient
Matching for Adversarial Robust Distillation
<https://arxiv.org/abs/2312.03286>`_ (2023); KDIGA + ARD, Shao et al.
(``--distill_method kdiga_ard``).

Code consulted: goldblum/AdversariallyRobustDistillation ``main.py``;
zibojia/RSLAD ``rslad_loss.py``, ``resnet18_rslad_cifar10.py``;
ZFancy/IAD ``IAD-I.py``; boyellow/AdaAD ``AT_helper.py``, ``main.py``;
HongsinLee/saad ``igdm.py``, ``attacks.py``, ``saad.py``;
RulinShao/AdversariallyRobustDistillation ``main.py`` (``kdiga_ard``).
The terms themselves are in :mod:`.robust_distill_objectives`.
"""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from ...attacks import pgd, project, random_start
from ...attacks.checks import check_int
from ...utils.frozen_eval import frozen_eval
from ...utils.pixel_space import check_pixel_range
from .adversarial_objectives import attack_labels, attack_mode
from .kdiga_distill import KDIGADistill
from .kdiga_inputs import check_first_input_gradients
from .kdiga_objective import classifier_task_loss, gather_targets
from .robust_distill_objectives import (
    KL_REDUCTIONS,
    StudentTeacherLogits,
    discrepancy_objective,
    iad_reliability,
    igdm_loss,
    igdm_ramp,
    kl_loss,
    soft_label_objective,
    weighted_kl,
)
from .robust_distill_settings import (
    build_distill_attack,
    checked_choice,
    checked_number,
)

METHODS = ('ard', 'rslad', 'iad', 'adaad')
CE_METHODS = ('ard', 'iad')  # the ones with a (1 − α)·CE(S(x), y) term
METHOD_DEFAULTS = dict(  # the reference code's CIFAR-10 α and τ
    ard=dict(alpha=1.0, tau=30.0),
    rslad=dict(alpha=5 / 6, tau=1.0),
    iad=dict(alpha=1.0, tau=1.0),
    adaad=dict(alpha=1.0, tau=1.0))
ATTACK_BN = ('eval', 'train', 'train_update')
START_STD = 0.001  # RSLAD's and AdaAD's x + 0.001·N(0, I) start
IAD_WARMUP_ITERS = 60 * 391  # IAD's --begin 60 epochs, 391 iterations each


@MODELS.register_module()
class RobustDistill(KDIGADistill):
    r"""Distillation on the student's own adversarial examples.

    Each step, for pixels :math:`x \in [0, 1]`, targets :math:`y`, the
    frozen teacher :math:`T` and the student :math:`S` (logits, each model
    with its own normalisation, ``pixel_classifier``), the inner
    maximisation finds :math:`x'` in the ε-ball of :math:`x` (``attack``:
    projected signed steps, :func:`~kdiga_mmrazor.attacks.pgd`), then the
    outer loss is, with :math:`\mathrm{KL}_\tau(a \| b) = \tau^2
    \mathrm{KL}(\mathrm{softmax}(a/\tau) \| \mathrm{softmax}(b/\tau))`:

    * ``'ard'``: :math:`x' = \arg\max \mathrm{CE}(S(x'), y)` from a uniform
      start; :math:`L = (1-\alpha)\,\mathrm{CE}(S(x), y) + \alpha\,
      \mathrm{KL}_\tau(T(x) \| S(x'))`; α = 1, τ = 30.
    * ``'rslad'``: :math:`x' = \arg\max \mathrm{KL}_1(T(x) \| S(x'))` from
      :math:`x + 0.001\,\mathcal{N}(0, I)`; :math:`L = \alpha\,
      \mathrm{KL}_\tau(T(x) \| S(x')) + (1-\alpha)\,\mathrm{KL}_\tau(T(x)
      \| S(x))`; α = 5/6, τ = 1.
    * ``'iad'`` (IAD-I): ARD's :math:`x'`; ARD's loss during the first
      ``iad_warmup_iters`` iterations, then :math:`+\,\alpha\,\frac{1}{B}
      \sum_i (1 - w_i)\,\mathrm{KL}_1(S(x_i) \| S(x'_i))` with
      :math:`w_i = p_{y_i}(T(x'_i))^\beta` (no gradient); the teacher term
      is not weighted (the code's IAD-I); α = 1, τ = 1, β = 0.1, 60 of
      200 epochs of warm-up.
    * ``'adaad'``: :math:`x' = \arg\max \mathrm{KL}_1(T(x') \| S(x'))`
      from :math:`x + 0.001\,\mathcal{N}(0, I)`, the teacher queried at
      the moving point; :math:`L = \alpha\,\mathrm{KL}_\tau(T(x') \|
      S(x')) + (1-\alpha)\,\mathrm{KL}_\tau(T(x) \| S(x))`; α = 1, τ = 1.
    * ``igdm_weight`` :math:`\lambda > 0`, with any method: :math:`+\,
      \lambda\, r_t\, \mathrm{KL}_1(T(x+\delta) - T(x-\delta) \|
      S(x+\delta) - S(x-\delta))`, :math:`\delta = x' - x` (not clipped
      to [0, 1], as in the code), :math:`r_t = \min(1, (t+1)/R)`: the
      code's ``epoch / 200`` ramp, per iteration. λ = 1 for CIFAR-10 (the
      authors' HongsinLee/saad ``saad.py``).
    * A ``KDIGADistiller`` loss on ``input_grad`` (e.g.
      ``InputGradientAlignmentLoss``): KDIGA's term on the clean batch,
      :math:`g_T, g_S = \nabla_x \mathrm{CE}` as in ``KDIGADistill``
      (KDIGA + ARD). Distiller losses stop with MMRazor's
      ``distillation_stopped``; the method's terms do not.

    Every attack default is the CIFAR-10 one of the papers and their
    attack functions: ε = 8/255, step 2/255, 10 steps, L∞ (AdaAD's
    ``main.py`` passes 16/255 and 4/255; the IGDM code passes
    ``step_size=8/255, epsilon=2/255``, swapped: here ``alpha > eps`` is
    refused). Random starts are clipped to [0, 1] before the first step
    (the reference code clips after it).
    KL terms are batch means (``kl_reduction='batchmean'``); the ARD,
    RSLAD and AdaAD (CIFAR-10) code divides by :math:`C` too
    (``'mean'``, :mod:`.robust_distill_objectives`).

    **BatchNorm while attacking** (``attack_bn``): ``'eval'`` (default;
    running statistics used and never updated by the iterates, Dropout
    off; RSLAD's and AdaAD's code), ``'train'`` (batch statistics, running
    statistics restored), ``'train_update'`` (every iterate updates them;
    ARD's and IAD's code). Student parameters never get gradients from the
    attack. The outer forwards :math:`S(x)`, :math:`S(x')` run in train
    mode; the teacher is always in eval mode.

    **Cost per step** (K attack steps; F/B = one forward/backward of a
    model on the batch): ARD, RSLAD: student K·(F + B to the input) + 2 F
    + 1 B, teacher 1 F. IAD: + 1 teacher F after warm-up. AdaAD: student
    as ARD, teacher K·(F + B) + 2 F. IGDM: + 1 student F, + 2 teacher F
    (1 with IAD/AdaAD). Input-gradient alignment: + 1 teacher B and a
    double backward through the student's clean graph. KDIGA runs no
    attack: teacher 1 F + 1 B, student 1 F and the double backward.

    Args:
        distiller (dict): A ``KDIGADistiller`` (no losses, or extra ones
            on the clean ``logits``/``input_grad`` records).
        teacher (dict | BaseModel): The robust teacher.
        method (str): ``'ard'``, ``'rslad'``, ``'iad'`` or ``'adaad'``.
            Defaults to ``'ard'``.
        attack (dict, optional): A ``PGDAttack`` config in pixel scale
            (``eps``, ``alpha`` the step size, ``steps``, ``norm``,
            ``random_start``, ``loss`` for ARD/IAD). Defaults to None (ε =
            8/255, step 2/255, 10 steps).
        attack_bn (str): See above. Defaults to ``'eval'``.
        alpha (float, optional): α in [0, 1]. Defaults to the method's.
        tau (float, optional): τ > 0 of the teacher–student KL terms.
            Defaults to the method's.
        kl_reduction (str): ``'batchmean'`` or ``'mean'``. Defaults to
            ``'batchmean'``.
        iad_beta (float): IAD's β ≥ 0. Defaults to 0.1.
        iad_warmup_iters (int): IAD's warm-up, read against the runner's
            ``iter``. Defaults to 23460 (60 epochs of 391 iterations).
        igdm_weight (float): λ ≥ 0 of IGDM. Defaults to 0 (off).
        igdm_ramp_iters (int, optional): R; None ramps over the run's
            ``max_iters`` (full weight outside a runner), 0 not at all.
            Defaults to None.
        **kwargs: As ``KDIGADistill`` (``architecture``,
            ``teacher_ckpt``, ``student_ckpt``, ``data_preprocessor``,
            ...); ``calculate_student_loss`` is refused (the method
            decides).
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 method: str = 'ard',
                 attack: Optional[dict] = None,
                 attack_bn: str = 'eval',
                 alpha: Optional[float] = None,
                 tau: Optional[float] = None,
                 kl_reduction: str = 'batchmean',
                 iad_beta: float = 0.1,
                 iad_warmup_iters: int = IAD_WARMUP_ITERS,
                 igdm_weight: float = 0.0,
                 igdm_ramp_iters: Optional[int] = None,
                 **kwargs) -> None:
        who = type(self).__name__
        method = checked_choice('model.method', method, METHODS, who)
        if 'calculate_student_loss' in kwargs:
            raise ValueError(
                f'{who}: remove model.calculate_student_loss; the method '
                'decides (ARD and IAD weigh CE(S(x), y) by 1 - alpha, '
                'RSLAD and AdaAD have no CE term)')
        defaults = METHOD_DEFAULTS[method]
        settings = dict(
            alpha=checked_number(
                'model.alpha', defaults['alpha'] if alpha is None else alpha,
                0, 1, who=who),
            tau=checked_number(
                'model.tau', defaults['tau'] if tau is None else tau, 0,
                open_low=True, who=who),
            kl_reduction=checked_choice('model.kl_reduction', kl_reduction,
                                        KL_REDUCTIONS, who),
            attack=build_distill_attack(method, attack, who),
            attack_bn=checked_choice('model.attack_bn', attack_bn, ATTACK_BN,
                                     who),
            iad_beta=checked_number('model.iad_beta', iad_beta, 0, who=who),
            iad_warmup_iters=check_int(who, 'model.iad_warmup_iters',
                                       iad_warmup_iters, minimum=0),
            igdm_weight=checked_number('model.igdm_weight', igdm_weight, 0,
                                       who=who),
            igdm_ramp_iters=None if igdm_ramp_iters is None else check_int(
                who, 'model.igdm_ramp_iters', igdm_ramp_iters, minimum=0))
        super().__init__(
            distiller=distiller,
            teacher=teacher,
            calculate_student_loss=method in CE_METHODS,
            **kwargs)
        self.method = method
        for key, value in settings.items():
            setattr(self, key, value)
        self._classes_checked = False  # until batch one's early check

    # -- inner maximisation -------------------------------------------------
    def _start(self, x: torch.Tensor) -> torch.Tensor:
        attack = self.attack
        if not attack.random_start:
            return x
        if self.method in CE_METHODS:  # uniform in the ball (ARD, IAD)
            return random_start(x, attack.eps, attack.norm, None)
        noise = torch.randn(x.shape, device=x.device, dtype=torch.float32)
        return project(x + START_STD * noise.to(x.dtype), x, attack.eps,
                       attack.norm)

    def inner_maximization(self, x: torch.Tensor, target: torch.Tensor,
                           teacher_logits: torch.Tensor) -> torch.Tensor:
        """The method's :math:`x'` (detached, in the ε-ball of ``x`` and in
        ``[0, 1]``), the student in its ``attack_bn`` mode meanwhile."""
        x = x.detach()
        attack = self.attack
        student = self.pixel_classifier('student')
        model, objective = student, None
        if self.method == 'rslad':
            objective = soft_label_objective(teacher_logits)
        elif self.method == 'adaad':
            model = StudentTeacherLogits(student,
                                         self.pixel_classifier('teacher'))
            objective = discrepancy_objective
        with attack_mode(self.architecture, self.attack_bn), \
                torch.enable_grad():
            return pgd(
                model,
                x,
                attack_labels(target, attack),
                eps=attack.eps,
                alpha=attack.alpha,
                steps=attack.steps,
                norm=attack.norm,
                loss=attack.loss,
                x_init=self._start(x),
                objective=objective)

    def _check_student_classes(self, x: torch.Tensor,
                               z_t: torch.Tensor) -> None:
        """The student's class count against the teacher's, from one image
        in eval mode without gradients (no BatchNorm update, no random
        draw), so a mismatch is named before any attack step is spent
        (RSLAD's and AdaAD's objectives would fail on the shapes)."""
        with torch.no_grad(), frozen_eval(self.architecture):
            z_s = self.pixel_classifier('student')(x[:1])
        self._check_classes(z_s, z_t)
        self._classes_checked = True

    # -- outer loss -----------------------------------------------------------
    def _teacher_logits(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.pixel_classifier('teacher')(x)

    @staticmethod
    def _progress() -> Tuple[int, Optional[int]]:
        """The runner's current iteration (0 outside one) and max_iters."""
        hub = MessageHub.get_current_instance()
        return int(hub.get_info('iter', 0) or 0), hub.get_info('max_iters')

    def method_losses(self, x: torch.Tensor, x_adv: torch.Tensor,
                      target: torch.Tensor, z_t: torch.Tensor,
                      z_s: torch.Tensor,
                      z_adv: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The method's KL terms (and IAD's, IGDM's), unprefixed: ``loss_adv``,
        ``loss_nat``, ``loss_self``, ``loss_igdm`` and the diagnostics
        ``iad_reliability`` (mean :math:`w`) and ``igdm_ramp``."""
        cache: Dict[str, torch.Tensor] = {}

        def teacher_adv() -> torch.Tensor:
            if 'z' not in cache:
                cache['z'] = self._teacher_logits(x_adv)
            return cache['z']

        alpha, tau, reduction = self.alpha, self.tau, self.kl_reduction
        adv_target = teacher_adv() if self.method == 'adaad' else z_t
        out = dict(loss_adv=alpha * kl_loss(adv_target, z_adv, tau, reduction))
        if self.method in ('rslad', 'adaad'):
            out['loss_nat'] = (1 - alpha) * kl_loss(z_t, z_s, tau, reduction)
        iteration, max_iters = self._progress()
        if self.method == 'iad' and iteration >= self.iad_warmup_iters:
            w = iad_reliability(teacher_adv(), target, self.iad_beta)
            out['loss_self'] = alpha * weighted_kl(z_s, z_adv, 1 - w,
                                                   reduction)
            out['iad_reliability'] = w.mean()
        if self.igdm_weight > 0:
            ramp = igdm_ramp(
                iteration, max_iters
                if self.igdm_ramp_iters is None else self.igdm_ramp_iters)
            x_minus = 2 * x - x_adv  # x − δ
            out['loss_igdm'] = self.igdm_weight * ramp * igdm_loss(
                teacher_adv(), self._teacher_logits(x_minus), z_adv,
                self.pixel_classifier('student')(x_minus), reduction)
            out['igdm_ramp'] = z_adv.new_tensor(ramp)
        return out

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> Dict[str, torch.Tensor]:
        """The method's losses of a pixel-space batch (class docstring)."""
        if not self._pixels_checked:  # a config error shows on batch one
            check_pixel_range(type(self).__name__, batch_inputs)
            self._pixels_checked = True
        x = batch_inputs
        target = gather_targets(data_samples)
        need_grad = (self.distiller.needs_input_gradients
                     and not self.distillation_stopped)

        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            z_t, g_t = self._teacher_step(x, target, need_grad)
        self._detach_teacher_records()
        if not self._classes_checked:  # before batch one's attack runs
            self._check_student_classes(x, z_t)
        x_adv = self.inner_maximization(x, target, z_t)

        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            z_s, g_s = self._student_step(x, target, need_grad)
        self._check_classes(z_s, z_t)
        z_adv = self.pixel_classifier('student')(x_adv)

        losses = dict()
        self.distiller.record(False, 'logits', z_t)
        self.distiller.record(True, 'logits', z_s)
        if need_grad:
            if not self._grads_checked:
                check_first_input_gradients(dict(teacher=g_t, student=g_s),
                                            type(self).__name__)
                self._grads_checked = True
            self.distiller.record(False, 'input_grad', g_t)
            self.distiller.record(True, 'input_grad', g_s)
            losses['distill.iga_cos_sim'] = F.cosine_similarity(
                g_s.detach().flatten(1), g_t.flatten(1), dim=1,
                eps=1e-12).mean()
        if self.calculate_student_loss:
            losses.update(
                add_prefix(
                    classifier_task_loss(self.student, z_s, data_samples,
                                         1 - self.alpha,
                                         type(self).__name__), 'student'))
        losses.update(
            add_prefix(
                self.method_losses(x, x_adv, target, z_t, z_s, z_adv),
                'distill'))
        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(),
                           'distill'))
        return losses

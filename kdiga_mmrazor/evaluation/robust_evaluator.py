"""Robust evaluation of pixel-space classifiers, without a Runner.

:class:`RobustEvaluator` does the per-batch work every robust evaluation
shares: clean predictions, each attack on the correctly classified
samples, the opt-in diagnostics, certificates (randomized smoothing, on
every sample) and the first-batch sanity checks, and the metrics that turn
per-sample results into ``robust/...`` keys (gathered across ranks by
MMEngine's ``BaseMetric``). The robust loops
(:mod:`.loops`) and hooks decide *when* and *on what data*; the evaluator
only needs classifiers ``x ∈ [0, 1] ↦ logits`` (each with its own
normalisation inside) and batches ``(x, y, sample_idx)``.
"""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.registry import METRICS
from torch import nn

from ..attacks.builder import build_attacks
from ..utils import (
    as_pixel_classifier,
    frozen_eval,
    pixels_from_batch,
    unwrap_model,
)
from .certification import CertificationSuite
from .diagnostics import gradient_misalignment, input_gradient, local_linearity
from .evaluator_options import build_sanity_checks, parse_diagnostics
from .sanity_checks import refuse_non_finite_logits
from .tables import collect_versions, metrics_to_rows
from .targets import batch_targets

PREFIXES = {'student': 'robust', 'teacher': 'teacher/robust'}  # of keys


class RobustEvaluator:
    r"""Clean and adversarial accuracy (and diagnostics) of classifiers.

    For a batch of pixel-space images :math:`x \in [0, 1]` with labels
    :math:`y`, each member :math:`f` (the student, optionally the teacher)
    gives :math:`\hat y = \arg\max f(x)`; each attack :math:`A` is run on
    the samples with :math:`\hat y_i = y_i` and a sample counts as robust
    to :math:`A` if :math:`\arg\max f(A(f, x_i, y_i)) = y_i` too.
    :class:`~kdiga_mmrazor.evaluation.RobustAccuracy` reports
    ``{prefix}/clean_acc`` and ``{prefix}/{attack.name}/acc`` in percent
    (prefix ``robust`` for the student, ``teacher/robust`` for the
    teacher); certifiers certify every sample (:class:`~kdiga_mmrazor.
    evaluation.CertifiedAccuracy`: ``{prefix}/{name}/certified_acc_r{r}``).
    Models are frozen, in eval mode, meanwhile (restored afterwards).

    Args:
        attacks (Sequence[dict]): Attack configs for
            :data:`kdiga_mmrazor.registry.ATTACKS` or built attacks, with
            distinct names (the metric keys). Defaults to ``()``.
        evaluate_teacher (bool): Also evaluate the teacher (keys
            ``teacher/robust/...``). Defaults to False.
        diagnostics (dict, optional): Opt-in diagnostics
            (:func:`~kdiga_mmrazor.evaluation.evaluator_options.
            parse_diagnostics`), e.g. ``dict(eps=8 / 255)``. Defaults to
            None (off).
        sanity_checks (bool | dict): :class:`~kdiga_mmrazor.evaluation.
            RobustSanityChecks` arguments, plus ``large_eps_attack`` (an
            attack config reported like the others that must break nearly
            every input). Defaults to True.
        owner (str): Names the component in errors and records.
            Defaults to ``'RobustEvaluator'``.
        certification (dict | Sequence[dict], optional): Certifier
            configs for :data:`kdiga_mmrazor.registry.CERTIFIERS`, e.g.
            ``[dict(type='RandomizedSmoothing', sigma=0.25)]`` (one dict is
            one certifier), names distinct from each other and from the
            attacks'. Defaults to None (none).

    Example:
        >>> evaluator = RobustEvaluator(
        ...     [dict(type='PGDAttack', eps=8 / 255, steps=10)])
        >>> evaluator.start(dict(student=pixel_classifier))
        >>> for x, y, idx in batches:  # x in [0, 1]
        ...     evaluator.process(x, y, idx)
        >>> evaluator.compute(size=len(dataset))['robust/pgd10_linf_8/acc']
    """

    def __init__(self,
                 attacks: Sequence[Union[Dict, object]] = (),
                 evaluate_teacher: bool = False,
                 diagnostics: Optional[Dict] = None,
                 sanity_checks: Union[bool, Dict] = True,
                 owner: str = 'RobustEvaluator',
                 certification: Optional[Union[Dict, Sequence]] = None
                 ) -> None:
        self.owner = owner
        self.attacks = build_attacks(attacks, f'{owner}: attacks')
        self.sanity, check_attack = build_sanity_checks(sanity_checks, owner)
        self.check_names: List[str] = []
        if check_attack is not None:
            self.attacks.append(check_attack)
            self.check_names.append(check_attack.name)
        names = [a.name for a in self.attacks]
        if len(set(names)) != len(names):
            raise ValueError(
                f'{owner}: attacks must have distinct names (the metric '
                f'keys), got {names}; set name=... in the repeated attack '
                'configs')
        self.certification = CertificationSuite(certification, owner, names)
        self.diagnostics = parse_diagnostics(diagnostics, owner)
        self.evaluate_teacher = bool(evaluate_teacher)
        self.members: Dict[str, nn.Module] = {}
        self.align_teacher: Optional[nn.Module] = None
        self.metrics: Dict[str, Dict[str, object]] = {}
        self.counts: Dict[str, Dict[str, int]] = {}
        self._first = True

    # ------------------------------------------------------------ members
    def members_of(self, model: nn.Module
                   ) -> Tuple[Dict[str, nn.Module], Optional[nn.Module]]:
        """The pixel-space classifiers of a (possibly wrapped) runner
        model: ``{'student': …}`` plus ``'teacher'`` when evaluated, and
        the teacher whose input gradient the diagnostics compare with
        (ValueError when one is asked for and the model has none)."""
        model = unwrap_model(model)
        has_teacher = getattr(model, 'teacher', None) is not None
        if self.evaluate_teacher and not has_teacher:
            raise ValueError(
                f'{self.owner}: evaluate_teacher=True but '
                f'{type(model).__name__} has no teacher; set '
                'evaluate_teacher=False')
        members = {'student': as_pixel_classifier(model, 'student')}
        if self.evaluate_teacher:
            members['teacher'] = as_pixel_classifier(model, 'teacher')
        align = self.diagnostics and self.diagnostics['gradient_alignment']
        if align and not has_teacher:
            raise ValueError(
                f'{self.owner}: diagnostics.gradient_alignment=True but '
                f'{type(model).__name__} has no teacher; set it to None or '
                'False')
        if self.diagnostics and align is None:
            align = has_teacher
        align_teacher = None
        if align:
            align_teacher = members.get('teacher') or as_pixel_classifier(
                model, 'teacher')
        return members, align_teacher

    def start(self,
              members: Dict[str, nn.Module],
              align_teacher: Optional[nn.Module] = None,
              num_images: Optional[int] = None) -> None:
        """Begin an evaluation: fresh metrics and running counts.

        Args:
            members (dict): ``'student'`` (and optionally ``'teacher'``) ↦
                a classifier ``x ∈ [0, 1] ↦ logits``.
            align_teacher (nn.Module, optional): The teacher whose input
                gradient the misalignment diagnostics compare with.
            num_images (int, optional): Images this rank will process (the
                ETA of the certifiers' progress lines).
        """
        unknown = set(members) - set(PREFIXES)
        if 'student' not in members or unknown:
            raise ValueError(
                f'{self.owner}: members must be a dict with a "student" '
                f'(and optionally a "teacher"), got {sorted(members)}')
        self.members = dict(members)
        self.align_teacher = align_teacher
        names = [a.name for a in self.attacks]
        self.metrics = {}
        for member in self.members:
            prefix = PREFIXES[member]
            metrics = dict(acc=METRICS.build(
                dict(type='RobustAccuracy', attack_names=names,
                     prefix=prefix)))
            if self.diagnostics:
                metrics['diag'] = METRICS.build(
                    dict(type='RobustDiagnostics',
                         eps=self.diagnostics['eps'], prefix=prefix))
            self.metrics[member] = metrics
        self.certification.start({m: PREFIXES[m] for m in self.members},
                                 num_images)
        self.counts = {m: dict(n=0, clean=0) for m in self.members}
        self._first = True

    # -------------------------------------------------------------- batches
    def process(self,
                x: torch.Tensor,
                y: torch.Tensor,
                sample_idx: Sequence[int],
                student_pred: Optional[torch.Tensor] = None
                ) -> Dict[str, List[Dict]]:
        """Evaluate one batch of every member.

        Args:
            x (Tensor): Images in ``[0, 1]``, (B, C, H, W); ``y`` labels.
            sample_idx (Sequence[int]): Dataset index of each sample.
            student_pred (Tensor, optional): The student's clean
                predictions when already known (saves a forward pass).

        Returns:
            dict: member ↦ per-sample results ``dict(sample_idx, clean,
            adv={attack name: bool})``.
        """
        if not self.members:
            raise RuntimeError(f'{self.owner}: call start() first')
        first, self._first = self._first, False
        results = {}
        teacher_grad = None
        if 'teacher' in self.members:  # its gradient serves alignment too
            with frozen_eval(self.members['teacher']):
                results['teacher'], teacher_grad = self._member(
                    'teacher', x, y, sample_idx, first, None, None)
                self.certification.process('teacher', self.members[
                    'teacher'], x, y, sample_idx)
        if self.align_teacher is not None and teacher_grad is None:
            with frozen_eval(self.align_teacher):
                _, teacher_grad, _ = input_gradient(self.align_teacher, x, y)
        with frozen_eval(self.members['student']):
            results['student'], _ = self._member(
                'student', x, y, sample_idx, first,
                teacher_grad if self.align_teacher is not None else None,
                student_pred)
            self.certification.process('student', self.members['student'],
                                       x, y, sample_idx)
        return results

    def process_data_batch(self,
                           model: nn.Module,
                           data_batch: Dict,
                           student_pred: Optional[torch.Tensor] = None
                           ) -> Dict[str, List[Dict]]:
        """:meth:`process` of a dataloader batch: pixels from the model's
        own data preprocessor (its mean/std step skipped), labels and
        dataset indices from its data samples."""
        with torch.no_grad():
            x, samples = pixels_from_batch(model, data_batch)
        y, sample_idx = batch_targets(samples, x.device, self.owner)
        if student_pred is not None:
            student_pred = student_pred.to(x.device)
        return self.process(x, y, sample_idx, student_pred)

    def log_progress(self, idx: int, total: int, every: int) -> None:
        """Log the running accuracies after batch ``idx`` (every ``every``
        batches, and after the last)."""
        if (idx + 1) % every and idx + 1 != total:
            return
        rank = ' on this rank' if get_world_size() > 1 else ''
        print_log(
            f'{self.owner} [{idx + 1}/{total}] running acc (%){rank}: '
            f'{self.running_accuracy()}',
            logger='current',
            level=logging.INFO)

    def _member(self, member: str, x: torch.Tensor, y: torch.Tensor,
                sample_idx: Sequence[int], first: bool,
                teacher_grad: Optional[torch.Tensor],
                clean_pred: Optional[torch.Tensor]
                ) -> Tuple[List[Dict], Optional[torch.Tensor]]:
        """Clean and attacked correctness (and diagnostics) of one member,
        and its input gradient when it was computed."""
        model = self.members[member]
        check = self.sanity is not None and first
        loss = grad = logits = None
        if self.diagnostics or check:
            loss, grad, logits = input_gradient(model, x, y)
            clean_pred = logits.argmax(dim=1)
        elif clean_pred is None or first:  # frozen model: no graph
            logits = model(x)
            clean_pred = logits.argmax(dim=1)
        if first:
            refuse_non_finite_logits(logits, member, self.owner)
        clean = clean_pred == y
        keep = clean.nonzero().squeeze(1)
        adv = {}
        for attack in self.attacks:
            correct = torch.zeros_like(clean)
            if keep.numel():
                with torch.enable_grad():
                    x_adv = attack(model, x[keep], y[keep])
                with torch.no_grad():
                    correct[keep] = model(x_adv).argmax(dim=1) == y[keep]
            adv[attack.name] = correct
        self._count(member, clean, adv)
        clean_l, adv_l = clean.tolist(), {k: v.tolist()
                                          for k, v in adv.items()}
        results = [
            dict(sample_idx=i, clean=clean_l[j],
                 adv={k: v[j] for k, v in adv_l.items()})
            for j, i in enumerate(sample_idx)
        ]
        self.metrics[member]['acc'].process(None, results)
        if self.diagnostics:
            self._diagnose(member, x, y, sample_idx, loss, grad,
                           teacher_grad)
        if check:
            self.sanity.check_random_output(model, x, member, logits)
            self.sanity.check_zero_gradients(grad, member)
        return results, grad

    def _diagnose(self, member, x, y, sample_idx, loss, grad,
                  teacher_grad) -> None:
        diag = self.diagnostics
        values = dict(clean_loss=loss, grad_l1=grad.flatten(1).abs().sum(1))
        if diag['local_linearity']:
            gen = torch.Generator(device=x.device).manual_seed(diag['seed'])
            values['local_linearity'] = local_linearity(
                self.members[member], x, y, diag['eps'], diag['steps'],
                diag['alpha'], gen, loss0=loss, grad0=grad)
        if teacher_grad is not None:
            values.update(gradient_misalignment(grad, teacher_grad))
            values['teacher_grad_l1'] = teacher_grad.flatten(1).abs().sum(1)
        values = {k: v.tolist() for k, v in values.items()}
        self.metrics[member]['diag'].process(None, [
            dict(sample_idx=i, **{k: v[j] for k, v in values.items()})
            for j, i in enumerate(sample_idx)
        ])

    def _count(self, member, clean, adv) -> None:
        counts = self.counts[member]
        counts['n'] += clean.numel()
        counts['clean'] += int(clean.sum())
        for name, correct in adv.items():
            counts[name] = counts.get(name, 0) + int((clean & correct).sum())

    # -------------------------------------------------------------- results
    def compute(self, size: int) -> Dict[str, float]:
        """The metrics over every processed sample (gathered across ranks,
        each sample once), after which the ordering and large-ε sanity
        checks run on them.

        Args:
            size (int): Length of the dataset (MMEngine's ``evaluate``).
        """
        metrics: Dict[str, float] = {}
        for member_metrics in self.metrics.values():
            for metric in member_metrics.values():
                metrics.update(metric.evaluate(size))
        metrics.update(self.certification.compute(size))
        if self.sanity is not None:  # on the attacks' keys only
            for member in self.members:
                self.sanity.check_attack_order(self.attacks, metrics,
                                               PREFIXES[member], member)
                self.sanity.check_large_eps(
                    self.attacks, metrics, PREFIXES[member], member,
                    always=self.check_names)
        return metrics

    def running_accuracy(self) -> str:
        """Accuracies so far on this rank, e.g. ``clean 80.0 |
        pgd20_linf_2 50.0; teacher: clean 76.0 | …``."""
        parts = []
        for member, counts in self.counts.items():
            n = max(counts['n'], 1)
            accs = [f"clean {100 * counts['clean'] / n:.1f}"] + [
                f'{a.name} {100 * counts.get(a.name, 0) / n:.1f}'
                for a in self.attacks
            ]
            tag = '' if member == 'student' else f'{member}: '
            parts.append(tag + ' | '.join(accs))
        return '; '.join(parts)

    def record(self, metrics: Dict[str, float], model_name: str,
               **extra) -> Dict:
        """Everything a result table needs to be traced: metrics, rows,
        attack settings, diagnostics, sanity warnings, versions.

        Args:
            metrics (dict): What :meth:`compute` returned (possibly with
                other metrics beside).
            model_name (str): Row label.
            **extra: More fields (``stage``, ``subset``, ``config``, …).
        """
        members = {m: PREFIXES[m] for m in self.members}
        return dict(
            model=model_name,
            metrics=dict(metrics),
            rows=metrics_to_rows(metrics, model_name, members),
            attacks=[
                a.settings() if hasattr(a, 'settings') else dict(
                    type=type(a).__name__, name=a.name)
                for a in self.attacks
            ],
            sanity_check_attacks=list(self.check_names),
            certification=self.certification.settings(),
            diagnostics=self.diagnostics,
            evaluate_teacher=self.evaluate_teacher,
            sanity_warnings=sorted(
                f'{check} ({who})'
                for check, who in (self.sanity.warned if self.sanity else [])),
            world_size=get_world_size(),
            versions=collect_versions(),
            **extra)


def model_name_of(cfg, model: nn.Module) -> str:
    """A row label: the config's file name, or the model's class name."""
    name = getattr(cfg, 'filename', None)
    return osp.splitext(osp.basename(name))[0] if name else type(
        unwrap_model(model)).__name__

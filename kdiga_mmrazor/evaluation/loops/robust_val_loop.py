"""Validation under attack: clean and adversarial accuracy (and, opt-in,
the paper's diagnostics) from MMEngine's val loop.

Follows the hook contract of MMEngine's ``ValLoop.run``
(``mmengine/runner/loops.py``): ``before_val``, ``before_val_epoch``,
``before_val_iter``/``after_val_iter`` per batch, ``after_val_epoch(
metrics)``, ``after_val``, and returns the metrics. Unlike MMRazor's
``SingleTeacherDistillValLoop`` the teacher, when evaluated, keeps its own
normalisation (:func:`~kdiga_mmrazor.utils.as_pixel_classifier`) and every
hook fires once.
"""
import logging
import time
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.dist import get_world_size
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.registry import LOOPS, METRICS
from mmengine.runner import ValLoop, autocast
from mmengine.runner.loops import _parse_losses, _update_losses
from torch.utils.data import DataLoader

from ...attacks.base import frozen_eval
from ...utils import as_pixel_classifier, pixels_from_batch, unwrap_model
from ..diagnostics import (
    gradient_misalignment,
    input_gradient,
    local_linearity,
)
from ..subset import indexed_dataloader
from ..tables import collect_versions, metrics_to_rows
from .loop_args import build_attack, build_sanity_checks, parse_diagnostics

PREFIXES = {'student': 'robust', 'teacher': 'teacher/robust'}


def _predicted_labels(outputs, device) -> Optional[torch.Tensor]:
    """``pred_label`` of the model's own step outputs (MMPretrain
    ``DataSample``), or None when there are none."""
    if not outputs or 'pred_label' not in outputs[0]:
        return None
    return torch.cat([o.pred_label.view(-1)[:1] for o in outputs]).to(device)


@LOOPS.register_module()
class RobustValLoop(ValLoop):
    r"""Clean and adversarial accuracy of the model (and its teacher).

    For each batch the model's data preprocessor gives pixel-space images
    :math:`x \in [0, 1]` (no mean/std) and labels; the model, wrapped as
    ``x ↦ logits`` with its own normalisation
    (:func:`~kdiga_mmrazor.utils.as_pixel_classifier`), is attacked by each
    attack on the samples it classifies correctly, and
    :class:`~kdiga_mmrazor.evaluation.RobustAccuracy` turns the per-sample
    results into ``robust/clean_acc`` and ``robust/{attack.name}/acc``
    (percent; a sample counts as robust if correct both clean and
    attacked). Gradients are enabled around the attacks and diagnostics
    only; parameters are frozen and the model in eval mode meanwhile (both
    restored).

    The dataloader's evaluator (``val_evaluator``, e.g. MMPretrain's
    ``Accuracy``) still runs on the model's own ``val_step`` outputs,
    so ``accuracy/top1`` sits beside the robust keys (on the same subset);
    ``run_evaluator=False`` skips it.

    A plain MMPretrain classifier is its own student; an MMRazor algorithm
    is evaluated through its student (``architecture``), and with
    ``evaluate_teacher=True`` its teacher too, under ``teacher/robust/...``.

    Under DDP each rank attacks its share; results carry their dataset
    index and are gathered with ``mmengine.dist``, each sample counted once
    (``DefaultSampler`` pads the last batch with repeats). Attacks draw
    their random starts per batch, so random-start attacks may differ
    slightly between world sizes (the batches differ); deterministic
    attacks give identical numbers.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The val dataloader; as a dict its
            dataset is wrapped so each sample knows its index, and
            subsampled when ``num_samples`` is set.
        evaluator (Evaluator | dict | list): The val evaluator.
        attacks (Sequence[dict]): Attack configs for
            :data:`kdiga_mmrazor.registry.ATTACKS` (``PGDAttack``,
            ``FGSMAttack``, ``AutoAttack``, ...), or built attacks. Their
            names must be distinct. Defaults to ``()`` (clean accuracy).
        num_samples (int, optional): Evaluate a fixed random subset of
            this many samples (same on every rank and run for a ``seed``).
            Defaults to None (the whole dataset).
        balanced (bool): Draw the subset class-balanced
            (``num_samples // C`` per class). Defaults to False.
        seed (int): Seed of the subset. Defaults to 0.
        evaluate_teacher (bool): Also attack the teacher of an MMRazor
            algorithm (its own normalisation), keys ``teacher/robust/...``.
            Defaults to False.
        diagnostics (dict, optional): Opt-in diagnostics
            (:class:`~kdiga_mmrazor.evaluation.RobustDiagnostics`), e.g.
            ``dict(eps=8 / 255)``. Keys: ``eps`` (L∞ radius, required),
            ``steps`` (ascent steps of the local-linearity search, 10),
            ``alpha`` (its step, ``2.5 * eps / steps``), ``seed`` (0),
            ``local_linearity`` (True), ``gradient_alignment`` (None: on
            when the model has a teacher). Defaults to None (off).
        sanity_checks (bool | dict): Run the checks of
            :class:`~kdiga_mmrazor.evaluation.RobustSanityChecks`; a dict
            passes its arguments, plus ``large_eps_attack``: an attack
            config run too (reported like the others) that must break
            nearly every input. The output-randomness and zero-gradient
            checks look at the first batch of each evaluation (as
            AutoAttack's do), the others at the final metrics.
            Defaults to True.
        run_evaluator (bool): Run the model's ``val_step`` and the
            dataloader's evaluator too. Defaults to True.
        log_interval (int): Log running accuracies every this many
            batches. Defaults to 1.
        fp16 (bool): Autocast the ``val_step`` (attacks always run in
            float32). Defaults to False.

    Example:
        >>> # in a config whose _base_ has
        >>> # './_base_/robust_eval/cifar10_linf_8.py':
        >>> val_cfg = dict(type='RobustValLoop', **_base_.robust_eval)
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='CheckpointHook', save_best='robust/pgd20_linf_8/acc'))
    """
    stage = 'val'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 attacks: Sequence[Union[Dict, object]] = (),
                 num_samples: Optional[int] = None,
                 balanced: bool = False,
                 seed: int = 0,
                 evaluate_teacher: bool = False,
                 diagnostics: Optional[Dict] = None,
                 sanity_checks: Union[bool, Dict] = True,
                 run_evaluator: bool = True,
                 log_interval: int = 1,
                 fp16: bool = False) -> None:
        self.owner = type(self).__name__
        self.attacks = [
            build_attack(a, f'{self.owner}: attacks') for a in attacks
        ]
        self.sanity, check_attack = build_sanity_checks(
            sanity_checks, self.owner)
        self.check_names = []
        if check_attack is not None:
            self.attacks.append(check_attack)
            self.check_names.append(check_attack.name)
        names = [a.name for a in self.attacks]
        if len(set(names)) != len(names):
            raise ValueError(
                f'{self.owner}: attacks must have distinct names (the '
                f'metric keys), got {names}; set name=... in the repeated '
                'attack configs')
        self.diagnostics = parse_diagnostics(diagnostics, self.owner)
        self.num_samples = num_samples
        self.balanced = bool(balanced)
        self.seed = int(seed)
        self.evaluate_teacher = bool(evaluate_teacher)
        self.run_evaluator = bool(run_evaluator)
        self.log_interval = max(int(log_interval), 1)
        dataloader, self.subset_info = indexed_dataloader(
            dataloader, num_samples, self.balanced, self.seed, self.owner)
        super().__init__(runner, dataloader, evaluator, fp16)
        self.metrics: Dict[str, Dict[str, object]] = {}
        self.last_metrics: Dict[str, float] = {}

    # ---------------------------------------------------------------- build
    def _build_metrics(self, members: Sequence[str]) -> None:
        names = [a.name for a in self.attacks]
        self.metrics = {}
        for member in members:
            prefix = PREFIXES[member]
            metrics = dict(
                acc=METRICS.build(
                    dict(
                        type='RobustAccuracy',
                        attack_names=names,
                        prefix=prefix)))
            if self.diagnostics:
                metrics['diag'] = METRICS.build(
                    dict(
                        type='RobustDiagnostics',
                        eps=self.diagnostics['eps'],
                        prefix=prefix))
            self.metrics[member] = metrics

    def _classifiers(self) -> Dict[str, torch.nn.Module]:
        model = unwrap_model(self.runner.model)
        has_teacher = getattr(model, 'teacher', None) is not None
        classifiers = {'student': as_pixel_classifier(model, 'student')}
        if self.evaluate_teacher:
            if not has_teacher:
                raise ValueError(
                    f'{self.owner}: evaluate_teacher=True but '
                    f'{type(model).__name__} has no teacher; set '
                    'evaluate_teacher=False')
            classifiers['teacher'] = as_pixel_classifier(model, 'teacher')
        self._align_teacher = None
        if self.diagnostics:
            align = self.diagnostics['gradient_alignment']
            if align and not has_teacher:
                raise ValueError(
                    f'{self.owner}: diagnostics.gradient_alignment=True but '
                    f'{type(model).__name__} has no teacher; set it to None '
                    'or False')
            if align is None:
                align = has_teacher
            if align and 'teacher' in classifiers:
                self._align_teacher = classifiers['teacher']
            elif align:
                self._align_teacher = as_pixel_classifier(model, 'teacher')
        return classifiers

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        """Launch the robust evaluation (the ``ValLoop.run`` contract)."""
        stage = self.stage
        self.runner.call_hook(f'before_{stage}')
        self.runner.call_hook(f'before_{stage}_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        self._members = self._classifiers()
        self._build_metrics(list(self._members))
        self._counts = {m: dict(n=0, clean=0) for m in self._members}
        self._start = time.time()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)

        size = len(self.dataloader.dataset)
        metrics = {}
        if self.run_evaluator:
            metrics.update(self.evaluator.evaluate(size))
        if self.val_loss:
            metrics.update(_parse_losses(self.val_loss, stage))
        for member_metrics in self.metrics.values():
            for metric in member_metrics.values():
                metrics.update(metric.evaluate(size))
        if self.sanity is not None:
            for member in self._members:
                self.sanity.check_attack_order(self.attacks, metrics,
                                               PREFIXES[member], member)
                self.sanity.check_large_eps(
                    self.attacks,
                    metrics,
                    PREFIXES[member],
                    member,
                    always=self.check_names)
        self.last_metrics = dict(metrics)
        self.runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{stage}')
        return metrics

    def _model_step(self, data_batch):
        model = self.runner.model
        step = model.val_step if self.stage == 'val' else model.test_step
        with torch.no_grad(), autocast(enabled=self.fp16):
            return step(data_batch)

    def run_iter(self, idx: int, data_batch: Dict) -> None:
        """Evaluate one batch: the model's own step (for the evaluator),
        then clean and adversarial predictions of each member."""
        stage = self.stage
        self.runner.call_hook(
            f'before_{stage}_iter', batch_idx=idx, data_batch=data_batch)
        outputs = []
        if self.run_evaluator:
            outputs = self._model_step(data_batch)
            outputs, self.val_loss = _update_losses(outputs, self.val_loss)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        with torch.no_grad():
            x, data_samples = pixels_from_batch(self.runner.model, data_batch)
        y, sample_idx = self._targets(data_samples, x.device)
        self._evaluate_batch(
            x, y, sample_idx, first=idx == 0,
            student_pred=_predicted_labels(outputs, x.device))
        if (idx + 1) % self.log_interval == 0 or idx + 1 == len(
                self.dataloader):
            self._log_progress(idx)
        self.runner.call_hook(
            f'after_{stage}_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)

    def _targets(self, data_samples, device):
        if not data_samples:
            raise ValueError(
                f'{self.owner}: batches need data samples with gt_label '
                '(MMPretrain datasets give them)')
        labels, indices = [], []
        for sample in data_samples:
            if 'sample_idx' not in sample.metainfo:
                raise ValueError(
                    f'{self.owner}: a data sample has no sample_idx; give '
                    'the dataloader as a config dict (the loop indexes its '
                    "samples), or keep 'sample_idx' in PackInputs' "
                    'meta_keys')
            labels.append(int(sample.gt_label.view(-1)[0]))
            indices.append(int(sample.metainfo['sample_idx']))
        return torch.tensor(labels, device=device), indices

    def _evaluate_batch(self,
                        x: torch.Tensor,
                        y: torch.Tensor,
                        sample_idx: List[int],
                        first: bool,
                        student_pred: Optional[torch.Tensor] = None) -> None:
        """``student_pred``: the student's clean predictions from the
        model's own step (when the evaluator ran), saving a forward pass."""
        teacher_grad = None
        if 'teacher' in self._members:  # its gradient serves alignment too
            with frozen_eval(self._members['teacher']):
                teacher_grad = self._evaluate_member(
                    'teacher', self._members['teacher'], x, y, sample_idx,
                    first, None)
        if self._align_teacher is not None and teacher_grad is None:
            with frozen_eval(self._align_teacher):
                _, teacher_grad, _ = input_gradient(self._align_teacher, x, y)
        with frozen_eval(self._members['student']):
            self._evaluate_member('student', self._members['student'], x, y,
                                  sample_idx, first,
                                  teacher_grad if self._align_teacher
                                  is not None else None, student_pred)

    def _evaluate_member(self, member: str, model: torch.nn.Module,
                         x: torch.Tensor, y: torch.Tensor,
                         sample_idx: List[int], first: bool,
                         teacher_grad: Optional[torch.Tensor],
                         clean_pred: Optional[torch.Tensor] = None
                         ) -> Optional[torch.Tensor]:
        """Clean and attacked correctness (and diagnostics) of one
        member; returns its input gradient when it was computed."""
        diag = self.diagnostics
        check = self.sanity is not None and first
        loss = grad = None
        if diag or check:
            loss, grad, logits = input_gradient(model, x, y)
            clean_pred = logits.argmax(dim=1)
        elif clean_pred is None:
            with torch.no_grad():
                clean_pred = model(x).argmax(dim=1)
        clean = clean_pred == y
        adv = {}
        keep = clean.nonzero().squeeze(1)
        for attack in self.attacks:
            correct = torch.zeros_like(clean)
            if keep.numel():
                with torch.enable_grad():
                    x_adv = attack(model, x[keep], y[keep])
                with torch.no_grad():
                    correct[keep] = model(x_adv).argmax(dim=1) == y[keep]
            adv[attack.name] = correct
        self._count(member, clean, adv)
        clean_l = clean.tolist()
        adv_l = {k: v.tolist() for k, v in adv.items()}
        self.metrics[member]['acc'].process(None, [
            dict(
                sample_idx=i,
                clean=clean_l[j],
                adv={k: v[j]
                     for k, v in adv_l.items()})
            for j, i in enumerate(sample_idx)
        ])
        if diag:
            self._diagnose(member, model, x, y, sample_idx, loss, grad,
                           teacher_grad)
        if check:
            self.sanity.check_random_output(model, x, member, logits)
            self.sanity.check_zero_gradients(grad, member)
        return grad

    def _diagnose(self, member, model, x, y, sample_idx, loss, grad,
                  teacher_grad) -> None:
        diag = self.diagnostics
        values = dict(clean_loss=loss, grad_l1=grad.flatten(1).abs().sum(1))
        if diag['local_linearity']:
            gen = torch.Generator(device=x.device).manual_seed(diag['seed'])
            values['local_linearity'] = local_linearity(
                model,
                x,
                y,
                diag['eps'],
                diag['steps'],
                diag['alpha'],
                gen,
                loss0=loss,
                grad0=grad)
        if teacher_grad is not None:
            values.update(gradient_misalignment(grad, teacher_grad))
            values['teacher_grad_l1'] = teacher_grad.flatten(1).abs().sum(1)
        values = {k: v.tolist() for k, v in values.items()}
        self.metrics[member]['diag'].process(None, [
            dict(sample_idx=i, **{k: v[j]
                                  for k, v in values.items()})
            for j, i in enumerate(sample_idx)
        ])

    # -------------------------------------------------------------- logging
    def _count(self, member, clean, adv) -> None:
        counts = self._counts[member]
        counts['n'] += clean.numel()
        counts['clean'] += int(clean.sum())
        for name, correct in adv.items():
            counts[name] = counts.get(name, 0) + int((clean & correct).sum())

    def _log_progress(self, idx: int) -> None:
        total = len(self.dataloader)
        elapsed = time.time() - self._start
        eta = elapsed / (idx + 1) * (total - idx - 1)
        parts = []
        for member, counts in self._counts.items():
            n = max(counts['n'], 1)
            accs = [f"clean {100 * counts['clean'] / n:.1f}"] + [
                f'{a.name} {100 * counts.get(a.name, 0) / n:.1f}'
                for a in self.attacks
            ]
            tag = '' if member == 'student' else f'{member}: '
            parts.append(tag + ' | '.join(accs))
        rank = ' on this rank' if get_world_size() > 1 else ''
        print_log(
            f'{self.owner} [{idx + 1}/{total}] running acc (%){rank}: ' +
            '; '.join(parts) + f' ({elapsed:.0f} s, eta {eta:.0f} s)',
            logger='current',
            level=logging.INFO)

    # -------------------------------------------------------------- results
    def result_record(self, model_name: Optional[str] = None) -> Dict:
        """Everything a result table needs to be traced: metrics, rows,
        attack settings, subset, diagnostics, versions.

        Args:
            model_name (str, optional): Row label. Defaults to the config's
                file name (or the model's class name).
        """
        if model_name is None:
            filename = getattr(self.runner.cfg, 'filename', None)
            if filename:
                import os.path as osp
                model_name = osp.splitext(osp.basename(filename))[0]
            else:
                model_name = type(unwrap_model(self.runner.model)).__name__
        members = {m: PREFIXES[m] for m in self.metrics}
        return dict(
            model=model_name,
            stage=self.stage,
            metrics=self.last_metrics,
            rows=metrics_to_rows(self.last_metrics, model_name, members),
            attacks=[
                a.settings() if hasattr(a, 'settings') else dict(
                    type=type(a).__name__, name=a.name)
                for a in self.attacks
            ],
            sanity_check_attacks=list(self.check_names),
            subset=dict(self.subset_info),
            diagnostics=self.diagnostics,
            evaluate_teacher=self.evaluate_teacher,
            sanity_warnings=sorted(
                f'{check} ({who})'
                for check, who in (self.sanity.warned if self.sanity else [])),
            world_size=get_world_size(),
            versions=collect_versions())

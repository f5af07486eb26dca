"""Validation under attack: MMEngine's val loop around a
:class:`~kdiga_mmrazor.evaluation.RobustEvaluator`.

Follows the hook contract of MMEngine's ``ValLoop.run``
(``mmengine/runner/loops.py``): ``before_val``, ``before_val_epoch``,
``before_val_iter``/``after_val_iter`` per batch, ``after_val_epoch(
metrics)``, ``after_val``, and returns the metrics. Progress and ETA come
from MMEngine's ``IterTimerHook`` and ``LoggerHook``; the loop adds the
running accuracies. Unlike MMRazor's ``SingleTeacherDistillValLoop`` the
teacher, when evaluated, keeps its own normalisation and every hook fires
once.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import LOOPS
from mmengine.runner import ValLoop, autocast
from mmengine.runner.loops import _parse_losses, _update_losses
from torch.utils.data import DataLoader

from ..robust_evaluator import RobustEvaluator, model_name_of
from ..subset import indexed_dataloader


def images_on_rank(dataloader) -> Optional[int]:
    """The samples this rank's dataloader yields (its sampler's length,
    padding included), or None when it cannot tell."""
    sampler = getattr(getattr(dataloader, 'batch_sampler', None), 'sampler',
                      getattr(dataloader, 'sampler', None))
    try:
        return len(sampler)
    except TypeError:
        return None


def _predicted_labels(outputs) -> Optional[torch.Tensor]:
    """``pred_label`` of the model's own step outputs (MMPretrain
    ``DataSample``), or None when there are none."""
    if not outputs or 'pred_label' not in outputs[0]:
        return None
    return torch.cat([o.pred_label.view(-1)[:1] for o in outputs])


@LOOPS.register_module()
class RobustValLoop(ValLoop):
    r"""Clean and adversarial accuracy of the model (and its teacher).

    Each batch goes through the model's data preprocessor without its
    mean/std step (pixel-space images :math:`x \in [0, 1]`), then through
    :class:`~kdiga_mmrazor.evaluation.RobustEvaluator`: every attack on
    the correctly classified samples of each member, giving
    ``robust/clean_acc`` and ``robust/{attack.name}/acc`` (percent; a
    sample counts as robust if correct both clean and attacked).

    The dataloader's evaluator (``val_evaluator``, e.g. MMPretrain's
    ``Accuracy``) still runs on the model's own ``val_step`` outputs, so
    ``accuracy/top1`` sits beside the robust keys (on the same subset);
    ``run_evaluator=False`` skips it.

    With ``certification`` each member's smoothed classifier is also
    certified on every sample (:class:`~kdiga_mmrazor.evaluation.
    certification.RandomizedSmoothing`), giving ``robust/{name}/
    certified_acc_r{r}``, ``robust/{name}/smoothed_acc`` and
    ``robust/{name}/abstain`` (:class:`~kdiga_mmrazor.evaluation.
    CertifiedAccuracy`), with progress lines and an ETA of their own.

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
        certification (dict | Sequence[dict], optional): Certifier
            configs for :data:`kdiga_mmrazor.registry.CERTIFIERS`, e.g.
            ``[dict(type='RandomizedSmoothing', sigma=0.25, n=100000)]``
            (one dict is one certifier), run on every sample of each
            member. Defaults to None (none).

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
                 fp16: bool = False,
                 certification: Optional[Union[Dict, Sequence]] = None
                 ) -> None:
        self.owner = type(self).__name__
        self.robust = RobustEvaluator(
            attacks,
            evaluate_teacher=evaluate_teacher,
            diagnostics=diagnostics,
            sanity_checks=sanity_checks,
            owner=self.owner,
            certification=certification)
        self.run_evaluator = bool(run_evaluator)
        self.log_interval = max(int(log_interval), 1)
        dataloader, self.subset_info = indexed_dataloader(
            dataloader, num_samples, bool(balanced), int(seed), self.owner)
        super().__init__(runner, dataloader, evaluator, fp16)
        self.last_metrics: Dict[str, float] = {}

    @property
    def attacks(self) -> list:
        """The built attacks (the sanity check's large-ε attack last)."""
        return self.robust.attacks

    # --------------- what the test loop overrides: the stage of the hooks
    # and loss keys, the model's own step, the loss buffer
    def call_hook(self, event: str, **kwargs) -> None:
        """``runner.call_hook`` of this stage: ``before`` →
        ``before_val``, ``after_iter`` → ``after_val_iter``, ..."""
        when, _, what = event.partition('_')
        self.runner.call_hook(
            f'{when}_{self.stage}' + (f'_{what}' if what else ''), **kwargs)

    def model_step(self, data_batch: Dict) -> list:
        """The model's ``val_step`` (for the dataloader's evaluator)."""
        return self.runner.model.val_step(data_batch)

    @property
    def loss_buffer(self) -> dict:
        return self.val_loss

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        """Launch the robust evaluation (the ``ValLoop.run`` contract)."""
        self.call_hook('before')
        self.call_hook('before_epoch')
        self.runner.model.eval()
        self.loss_buffer.clear()
        self.robust.start(
            *self.robust.members_of(self.runner.model),
            num_images=images_on_rank(self.dataloader))
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)

        size = len(self.dataloader.dataset)
        metrics = {}
        if self.run_evaluator:
            metrics.update(self.evaluator.evaluate(size))
        if self.loss_buffer:
            metrics.update(_parse_losses(self.loss_buffer, self.stage))
        metrics.update(self.robust.compute(size))
        self.last_metrics = dict(metrics)
        self.call_hook('after_epoch', metrics=metrics)
        self.call_hook('after')
        return metrics

    def run_iter(self, idx: int, data_batch: Dict) -> None:
        """Evaluate one batch: the model's own step (for the evaluator),
        then clean and adversarial predictions of each member."""
        self.call_hook('before_iter', batch_idx=idx, data_batch=data_batch)
        outputs = []
        if self.run_evaluator:
            with torch.no_grad(), autocast(enabled=self.fp16):
                outputs = self.model_step(data_batch)
            outputs, _ = _update_losses(outputs, self.loss_buffer)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.robust.process_data_batch(
            self.runner.model, data_batch,
            student_pred=_predicted_labels(outputs))
        self.robust.log_progress(idx, len(self.dataloader), self.log_interval)
        self.call_hook(
            'after_iter', batch_idx=idx, data_batch=data_batch,
            outputs=outputs)

    # -------------------------------------------------------------- results
    def result_record(self, model_name: Optional[str] = None) -> Dict:
        """Everything a result table needs to be traced: metrics, rows,
        attack settings, subset, diagnostics, versions.

        Args:
            model_name (str, optional): Row label. Defaults to the config's
                file name (or the model's class name).
        """
        if model_name is None:
            model_name = model_name_of(self.runner.cfg, self.runner.model)
        return self.robust.record(
            self.last_metrics, model_name, stage=self.stage,
            subset=dict(self.subset_info))


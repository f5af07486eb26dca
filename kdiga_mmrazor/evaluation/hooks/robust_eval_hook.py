"""Robust evaluation as one ``custom_hooks`` entry in any config.

:class:`RobustEvalHook` evaluates the runner's model (a plain MMPretrain
classifier or an MMRazor distillation algorithm, MMRazor's own
``SingleTeacherDistill`` included) under the registered attacks, with the
Runner-free :class:`~kdiga_mmrazor.evaluation.RobustEvaluator`, and leaves
``val_cfg``, ``test_cfg`` and the clean metrics alone.
"""
import copy
from typing import Dict, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ..loops.robust_val_loop import images_on_rank
from ..robust_evaluator import RobustEvaluator, model_name_of
from ..subset import indexed_dataloader


@HOOKS.register_module()
class RobustEvalHook(Hook):
    r"""Clean and adversarial accuracy of the model, from a hook.

    When it runs:

    * ``interval=None`` (default): after each validation, on the val
      dataloader's dataset. Its metrics (``robust/clean_acc``,
      ``robust/{attack}/acc``, ``teacher/robust/...``) join the validation
      metrics: the logger line, every visualizer backend the config names
      (local JSON, TensorBoard, W&B, MLflow) and
      ``CheckpointHook(save_best='robust/pgd20_linf_2/acc')`` see them.
    * ``interval=N``: every ``N`` training epochs (``by_epoch=True``) or
      iterations (``by_epoch=False``), with or without a val loop; the
      metrics are logged and sent to the visualizer under ``robust/...``
      (``save_best`` needs the default, after-validation mode).
    * ``on_test=True``: also after each test, on the test dataloader's
      dataset (``tools/test.py`` then writes the robust table).

    On what: a fixed, seeded subset of ``num_samples`` images of the val
    (or test) dataset, class-balanced by default, the same on every rank
    and run; or the hook's own ``dataloader`` config. Under DDP each rank
    attacks its share and each sample is counted once. The model is in
    eval mode with frozen parameters meanwhile and restored afterwards.

    With ``certification`` every sample is also certified by randomized
    smoothing (``robust/{name}/certified_acc_r{r}``, ``.../smoothed_acc``,
    ``.../abstain``; see :class:`~kdiga_mmrazor.evaluation.certification.
    RandomizedSmoothing`); attacks may then be empty.

    Args:
        attacks (Sequence[dict]): Attack configs for
            :data:`kdiga_mmrazor.registry.ATTACKS`, distinct names (at
            least one unless ``certification`` is given).
        num_samples (int, optional): Size of the subset. Defaults to 1000;
            None evaluates the whole dataset.
        balanced (bool): Draw the subset class-balanced. Defaults to True.
        seed (int): Seed of the subset. Defaults to 0.
        dataloader (dict, optional): A dataloader config of its own instead
            of the runner's val/test dataloader config.
        evaluate_teacher (bool): Also the teacher of a distillation model
            (its own normalisation), keys ``teacher/robust/...``. Defaults to
            False.
        diagnostics (dict, optional): See :class:`RobustEvaluator`.
        sanity_checks (bool | dict): See :class:`RobustEvaluator`. Defaults
            to True.
        interval (int, optional): Evaluate during training every this many
            epochs or iterations instead of after each validation.
        by_epoch (bool): Whether ``interval`` counts epochs. Defaults to
            True.
        on_test (bool): Also evaluate after each test. Defaults to False.
        log_interval (int): Log running accuracies every this many batches.
            Defaults to 10.
        certification (dict | Sequence[dict], optional): Certifier
            configs for :data:`kdiga_mmrazor.registry.CERTIFIERS`, e.g.
            ``[dict(type='RandomizedSmoothing', sigma=0.25, n=10000)]``.
            Defaults to None (none).

    Example:
        >>> custom_hooks = [
        ...     dict(type='RobustEvalHook',
        ...          attacks=[dict(type='PGDAttack', eps=2 / 255, steps=20)])
        ... ]
        >>> default_hooks = dict(
        ...     checkpoint=dict(save_best='robust/pgd20_linf_2/acc'))
    """
    # after RuntimeInfoHook (VERY_HIGH), before LoggerHook (BELOW_NORMAL)
    # and CheckpointHook (VERY_LOW), which read the metrics it adds
    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 attacks: Sequence[Union[Dict, object]] = (),
                 num_samples: Optional[int] = 1000,
                 balanced: bool = True,
                 seed: int = 0,
                 dataloader: Optional[Dict] = None,
                 evaluate_teacher: bool = False,
                 diagnostics: Optional[Dict] = None,
                 sanity_checks: Union[bool, Dict] = True,
                 interval: Optional[int] = None,
                 by_epoch: bool = True,
                 on_test: bool = False,
                 log_interval: int = 10,
                 certification: Optional[Union[Dict, Sequence]] = None
                 ) -> None:
        self.owner = type(self).__name__
        if not attacks and not certification:
            raise ValueError(
                f'{self.owner}: attacks is empty; give at least one, e.g. '
                "attacks=[dict(type='PGDAttack', eps=2 / 255, steps=20)], "
                "or certification=[dict(type='RandomizedSmoothing', "
                'sigma=0.25)]')
        if interval is not None and not (isinstance(interval, int)
                                         and interval >= 1):
            raise ValueError(f'{self.owner}: interval must be a positive '
                             f'int or None, got {interval!r}')
        self.evaluator = RobustEvaluator(
            attacks,
            evaluate_teacher=evaluate_teacher,
            diagnostics=diagnostics,
            sanity_checks=sanity_checks,
            owner=self.owner,
            certification=certification)
        self.num_samples = num_samples
        self.balanced = bool(balanced)
        self.seed = int(seed)
        self.dataloader_cfg = dataloader
        self.interval = interval
        self.by_epoch = bool(by_epoch)
        self.on_test = bool(on_test)
        self.log_interval = max(int(log_interval), 1)
        self._loaders: Dict[str, tuple] = {}
        self.last_stage: Optional[str] = None

    # ----------------------------------------------------------- evaluation
    def _loader(self, runner, stage: str):
        if stage not in self._loaders:
            cfg = self.dataloader_cfg
            if cfg is None:
                cfg = runner.cfg.get(f'{stage}_dataloader')
            if cfg is None:
                raise ValueError(
                    f'{self.owner}: the config has no {stage}_dataloader; '
                    f'give the hook a dataloader=dict(...) of its own')
            cfg, info = indexed_dataloader(
                copy.deepcopy(cfg), self.num_samples, self.balanced,
                self.seed, self.owner)
            self._loaders[stage] = (runner.build_dataloader(cfg), info)
        return self._loaders[stage]

    def evaluate(self, runner, stage: str = 'val') -> Dict[str, float]:
        """Run the robust evaluation now and return its metrics."""
        model = runner.model
        training = model.training
        model.eval()
        loader, info = self._loader(runner, stage)
        self.evaluator.start(
            *self.evaluator.members_of(model),
            num_images=images_on_rank(loader))
        total = len(loader)
        for idx, data_batch in enumerate(loader):
            self.evaluator.process_data_batch(model, data_batch)
            self.evaluator.log_progress(idx, total, self.log_interval)
        metrics = self.evaluator.compute(len(loader.dataset))
        model.train(training)
        self.last_stage = stage
        self._last = (metrics, model_name_of(runner.cfg, model), info)
        return metrics

    def result_record(self, model_name: Optional[str] = None) -> Dict:
        """The record of the last evaluation (see
        :meth:`RobustEvaluator.record`), rows labelled ``model_name``
        (default: the config's file name)."""
        metrics, default_name, info = self._last
        return self.evaluator.record(
            metrics, model_name or default_name, stage=self.last_stage,
            subset=dict(info))

    def _publish(self, runner, metrics: Dict[str, float], mode: str,
                 step: int) -> None:
        if mode == 'train':  # no LoggerHook epoch line for these
            runner.visualizer.add_scalars(metrics, step=step)
            print_log(
                f'{self.owner} at {"epoch" if self.by_epoch else "iter"} '
                f'{step}: ' + ', '.join(
                    f'{k}: {v:.4f}' for k, v in metrics.items()),
                logger='current')
        else:
            for key, value in metrics.items():
                runner.message_hub.update_scalar(f'{mode}/{key}', value)

    # ---------------------------------------------------------------- hooks
    def after_val_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        if self.interval is not None:
            return
        robust = self.evaluate(runner, 'val')
        self._publish(runner, robust, 'val', runner.iter)
        if metrics is not None:
            metrics.update(robust)

    def after_test_epoch(self, runner,
                         metrics: Optional[Dict] = None) -> None:
        if not self.on_test:
            return
        robust = self.evaluate(runner, 'test')
        self._publish(runner, robust, 'test', runner.iter)
        if metrics is not None:
            metrics.update(robust)

    def after_train_epoch(self, runner) -> None:
        if self.interval and self.by_epoch and self.every_n_epochs(
                runner, self.interval):
            self._publish(runner, self.evaluate(runner, 'val'), 'train',
                          runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.interval and not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self._publish(runner, self.evaluate(runner, 'val'), 'train',
                          runner.iter + 1)

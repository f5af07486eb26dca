"""Seconds per training step of several configs, measured in one process.

A method comparison has to show cost as well as robustness: adversarial
distillation runs an attack on the student every step, KDIGA does not. To
make the ratios hold on a noisy machine, every config's model takes its
train steps on the same batch, interleaved (one step of each, in turn),
after a warm-up step each, and the median is reported.

Each step is timed as a late step of its run: the message hub's ``iter``
is set to the last iteration of the longest config (``train_cfg.max_iters
- 1``) while they run, so what switches on during training (IAD's
self-introspection term after ``iad_warmup_iters``, IGDM's full weight
after its ramp) is in the time, not the cheaper first step.
"""
import contextlib
import copy
import logging
import statistics
import time
from typing import Callable, Dict, Iterator, List, Mapping

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger, print_log
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS
from torch import nn

from ..models.algorithms.teacher_weights import NO_TEACHER_CHECKPOINT


@contextlib.contextmanager
def _no_teacher_warning_dropped() -> Iterator[None]:
    """The current logger drops the algorithm's "no checkpoint loads the
    teacher" warning meanwhile (expected when ``teacher_ckpt`` is left out
    on purpose)."""
    logger = MMLogger.get_current_instance()

    def keep(record: logging.LogRecord) -> bool:
        return NO_TEACHER_CHECKPOINT not in record.getMessage()

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def build_for_timing(cfg: Config) -> nn.Module:
    """The config's model without its ``teacher_ckpt``/``student_ckpt``
    (weights do not change the cost, and the files need not exist), in
    train mode, on the GPU when there is one (the data preprocessor moves
    each batch to it). When ``teacher_ckpt`` is left out, the algorithm's
    warning that no checkpoint loads the teacher is not logged: one info
    line says so instead (a config without one keeps its warning)."""
    model_cfg = copy.deepcopy(cfg.model)
    left_out = [key for key in ('teacher_ckpt', 'student_ckpt')
                if model_cfg.get(key)]
    for key in left_out:
        model_cfg[key] = None
    if 'data_preprocessor' not in model_cfg and cfg.get('data_preprocessor'):
        model_cfg['data_preprocessor'] = cfg.data_preprocessor
    if left_out:
        print_log(f'step timing: {cfg.model.get("type")} is built without '
                  f'model.{" and model.".join(left_out)} (weights do not '
                  'change the cost)', logger='current')
    with (_no_teacher_warning_dropped() if 'teacher_ckpt' in left_out
          else contextlib.nullcontext()):
        model = MODELS.build(model_cfg)
    if torch.cuda.is_available():
        model = model.cuda()
    model.train()  # MMRazor's SingleTeacherDistill.train returns None
    return model


def synthetic_batch(batch_size: int, image_size: int, num_classes: int,
                    seed: int = 0) -> dict:
    """uint8 images and labels, as a dataloader gives them."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch_size, 3, image_size, image_size),
                           generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, num_classes, (batch_size, ), generator=gen)
    return dict(inputs=list(images),
                data_samples=[DataSample().set_gt_label(int(v))
                              for v in labels])


def trainable_optim_wrapper(model: nn.Module) -> OptimWrapper:
    """SGD with momentum over the parameters that train (the student)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return OptimWrapper(torch.optim.SGD(params, lr=0.01, momentum=0.9))


def _synchronize() -> None:
    """Wait for the GPU's queued work (nothing to wait for on a CPU)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def seconds_per_step(steps: Mapping[str, Callable[[], None]],
                     repeats: int = 5,
                     clock: Callable[[], float] = time.perf_counter
                     ) -> Dict[str, float]:
    """Median seconds of each callable, run interleaved ``repeats`` times
    after one warm-up call each. On a GPU the clock stops only when the
    queued kernels finished, and starts after the warm-ups' have (else the
    first timed step would carry the last warm-up's work)."""
    for step in steps.values():
        step()
    _synchronize()
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = clock()
            step()
            _synchronize()
            times[name].append(clock() - start)
    return {name: statistics.median(t) for name, t in times.items()}


@contextlib.contextmanager
def late_training_step(iteration: int) -> Iterator[None]:
    """The current message hub at ``iter = iteration`` (``max_iters =
    iteration + 1``) inside the block, as a runner's last step sets it;
    afterwards each is back at its value before (0 and None when unset,
    what a model reads outside a runner)."""
    hub = MessageHub.get_current_instance()
    saved = dict(iter=hub.get_info('iter', 0),
                 max_iters=hub.get_info('max_iters'))
    hub.update_info('iter', iteration)
    hub.update_info('max_iters', iteration + 1)
    try:
        yield
    finally:
        for key, value in saved.items():
            hub.update_info(key, value)


def last_iteration(configs: Mapping[str, Config]) -> int:
    """The last iteration (0-based) of the longest config's run; 0 when
    none states ``train_cfg.max_iters``."""
    ends = [int((cfg.get('train_cfg') or {}).get('max_iters') or 0)
            for cfg in configs.values()]
    return max([0] + ends) - 1 if any(ends) else 0


def time_configs(configs: Mapping[str, Config],
                 batch_size: int = 128,
                 image_size: int = 32,
                 num_classes: int = 10,
                 repeats: int = 5) -> Dict[str, float]:
    """Median seconds per ``train_step`` of each config's model on one
    synthetic batch, interleaved (see the module docstring)."""
    batch = synthetic_batch(batch_size, image_size, num_classes)
    steps = {}
    for name, cfg in configs.items():
        torch.manual_seed(0)
        model = build_for_timing(cfg)
        wrapper = trainable_optim_wrapper(model)
        steps[name] = (lambda m=model, w=wrapper: m.train_step(batch, w))
    with late_training_step(last_iteration(configs)):
        return seconds_per_step(steps, repeats)

"""Interleaved step timing: medians, warm-up, any config's model."""
import logging

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from kdiga_mmrazor.engine.step_timing import seconds_per_step, time_configs

from ..conftest import REPO


def test_medians_of_interleaved_calls_after_one_warm_up_each():
    calls = []
    durations = {'a': iter([9, 1, 2, 3]), 'b': iter([9, 5, 7, 6])}
    now = [0.0]

    def step(name):
        def run():
            calls.append(name)
            now[0] += next(durations[name])
        return run

    result = seconds_per_step({'a': step('a'), 'b': step('b')}, repeats=3,
                              clock=lambda: now[0])
    assert calls == ['a', 'b'] + ['a', 'b'] * 3
    assert result == {'a': 2.0, 'b': 6.0}  # warm-up (9) excluded


def test_on_a_gpu_the_clock_waits_for_the_warm_ups_and_each_step(
        monkeypatch):
    """Kernels run asynchronously: the warm-ups' queued work is waited
    for before the first clock reading, each step's before the next."""
    events = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'synchronize',
                        lambda: events.append('sync'))

    def clock():
        events.append('clock')
        return float(len(events))

    seconds_per_step({'a': lambda: events.append('a'),
                      'b': lambda: events.append('b')}, repeats=1,
                     clock=clock)
    assert events == ['a', 'b', 'sync', 'clock', 'a', 'sync', 'clock',
                      'clock', 'b', 'sync', 'clock']


@pytest.mark.parametrize('config', [
    'configs/kd_resnet4b_resnet20_cifar10.py',
    'configs/kdiga_resnet4b_resnet20_cifar10.py'
])
def test_configs_train_steps_are_timed(config):
    import kdiga_mmrazor  # noqa: F401
    seconds = time_configs({'m': Config.fromfile(f'{REPO}/{config}')},
                           batch_size=4, repeats=1)
    assert set(seconds) == {'m'} and 0 < seconds['m'] < 30


def test_timing_leaves_the_checkpoints_out_and_says_so_once(mmengine_log):
    """The teacher's checkpoint is left out on purpose: no warning that it
    keeps its initial weights, one info line instead; the filter is gone
    afterwards."""
    import kdiga_mmrazor  # noqa: F401
    from kdiga_mmrazor.engine.step_timing import build_for_timing
    from kdiga_mmrazor.models.algorithms.teacher_weights import (
        NO_TEACHER_CHECKPOINT,
    )
    cfg = Config.fromfile(
        f'{REPO}/configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py')
    cfg.model.teacher_ckpt = '/nonexistent/teacher.pth'
    build_for_timing(cfg)
    assert mmengine_log.view(logging.WARNING, NO_TEACHER_CHECKPOINT) == []
    info = mmengine_log.view(logging.INFO, 'step timing:')
    assert len(info) == 1 and 'model.teacher_ckpt' in info[0]
    MMLogger.get_current_instance().warning(f'x: {NO_TEACHER_CHECKPOINT}')
    assert len(mmengine_log.view(logging.WARNING, NO_TEACHER_CHECKPOINT)) == 1
    cfg.model.teacher_ckpt = None  # no teacher weights at all: still said
    build_for_timing(cfg)
    assert len(mmengine_log.view(logging.WARNING, NO_TEACHER_CHECKPOINT)) == 2
    info = mmengine_log.view(logging.INFO, 'step timing:')
    assert len(info) == 2 and 'teacher_ckpt' not in info[1]


def test_steps_are_timed_late_in_training_where_iad_adds_its_self_term(
        monkeypatch):
    """IAD's self-introspection term (a teacher forward at x') switches on
    after ``iad_warmup_iters``: the timed step has it; the hub is back at
    its values afterwards."""
    from mmengine.logging import MessageHub

    import kdiga_mmrazor  # noqa: F401
    from kdiga_mmrazor.engine.step_timing import last_iteration
    from kdiga_mmrazor.models.algorithms import robust_distill
    cfg = Config.fromfile(
        f'{REPO}/configs/iad_resnet4b_resnet20_cifar10-pretrained.py')
    cfg.model.attack.steps = 1
    assert cfg.model.iad_warmup_iters < cfg.train_cfg.max_iters == 391
    assert last_iteration({'iad': cfg, 'none': Config(dict())}) == 390
    seen = []
    reliability = robust_distill.iad_reliability

    def spy(*args, **kwargs):
        seen.append(MessageHub.get_current_instance().get_info('iter'))
        return reliability(*args, **kwargs)

    monkeypatch.setattr(robust_distill, 'iad_reliability', spy)
    hub = MessageHub.get_current_instance()
    before = (hub.get_info('iter', 0), hub.get_info('max_iters'))
    time_configs({'IAD': cfg}, batch_size=4, repeats=1)
    assert seen == [390, 390]  # the warm-up step and the timed one
    assert (hub.get_info('iter', 0), hub.get_info('max_iters')) == before

"""DivergenceGuardHook: a non-finite loss, gradient norm or weight stops
training at that iteration, naming it; AMP's skipped steps do not."""
import glob
import logging
import os
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import nn

from kdiga_mmrazor.engine.hooks import DivergenceError, DivergenceGuardHook
from kdiga_mmrazor.engine.hooks.divergence_guard import (
    finite_buffer_names,
    non_finite_weights,
)

from ...conftest import REPO


def runner(amp=False, last_ckpt=None, grad_norm=None, weight=1.0, it=6):
    model = nn.Linear(2, 2)
    nn.init.constant_(model.weight, weight)
    hub = MessageHub(f'guard-{id(model)}')
    if last_ckpt:
        hub.update_info('last_ckpt', last_ckpt)
    if grad_norm is not None:
        hub.update_scalar('train/grad_norm', grad_norm)
    wrapper = (AmpOptimWrapper.__new__(AmpOptimWrapper) if amp else
               OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    return SimpleNamespace(model=model, message_hub=hub, iter=it,
                           optim_wrapper=wrapper)


def finite():
    return {'loss': torch.tensor(1.5), 'distill.loss_kl': torch.tensor(0.5)}


def test_finite_iterations_pass():
    DivergenceGuardHook().after_train_iter(runner(grad_norm=3.0), 0,
                                           outputs=finite())


def test_a_nan_loss_term_stops_naming_iteration_terms_and_checkpoint():
    outputs = dict(finite(), **{'loss': torch.tensor(float('nan')),
                                'student.loss': torch.tensor(float('inf'))})
    with pytest.raises(DivergenceError) as error:
        DivergenceGuardHook().after_train_iter(
            runner(last_ckpt='work/iter_4.pth'), 0, outputs=outputs)
    message = str(error.value)
    assert 'iteration 7' in message  # runner.iter is 0-based
    assert 'loss=nan' in message and 'student.loss=inf' in message
    assert 'distill.loss_kl' not in message
    assert 'the last checkpoint, work/iter_4.pth' in message


def test_non_finite_weights_and_grad_norm_are_named():
    with pytest.raises(DivergenceError, match=r"1 weights are not finite.*"
                       r"\['weight'\].*no checkpoint was saved"):
        DivergenceGuardHook().after_train_iter(
            runner(weight=float('nan')), 0, outputs=finite())
    with pytest.raises(DivergenceError, match='grad_norm=inf'):
        DivergenceGuardHook().after_train_iter(
            runner(grad_norm=float('inf')), 0, outputs=finite())


def test_amp_skipped_steps_warn_until_too_many_in_a_row(mmengine_log):
    hook = DivergenceGuardHook(max_skipped_amp_steps=2)
    nan = dict(finite(), loss=torch.tensor(float('nan')))
    warnings = mmengine_log.view(logging.WARNING, 'loss scaler skipped')
    hook.after_train_iter(runner(amp=True), 0, outputs=nan)
    hook.after_train_iter(runner(amp=True), 0, outputs=finite())  # resets
    hook.after_train_iter(runner(amp=True), 0, outputs=nan)
    hook.after_train_iter(runner(amp=True), 0, outputs=nan)
    assert len(warnings) == 3 and '2 in a row' in warnings[-1]
    with pytest.raises(DivergenceError, match='3 AMP steps in a row'):
        hook.after_train_iter(runner(amp=True), 0, outputs=nan)
    with pytest.raises(DivergenceError, match='weights are not finite'):
        hook.after_train_iter(runner(amp=True, weight=float('inf')), 0,
                              outputs=finite())


def test_weights_checked_are_trainable_ones_and_running_statistics():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2),
                          nn.BatchNorm1d(2))
    model.register_buffer('mask', torch.tensor([0.0, -float('inf')]))
    buffers = finite_buffer_names(model)
    assert 'mask' not in buffers and '2.running_var' in buffers
    assert non_finite_weights(model, buffers) == []
    with torch.no_grad():
        model[0].bias[1] = float('nan')
        model[1].weight[0, 0] = float('inf')
        model[2].running_var[0] = float('inf')
    model[1].requires_grad_(False)
    assert non_finite_weights(model, buffers) == ['0.bias', '2.running_var']


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='max_skipped_amp_steps'):
        DivergenceGuardHook(max_skipped_amp_steps=-1)


def test_a_diverging_training_run_exits_non_zero_without_a_nan_checkpoint(
        tmp_path, cifar10_folder):
    """``--cfg-options optim_wrapper.optimizer.lr=1e6`` on a shipped
    config: training stops at the iteration whose weights turn non-finite
    (the loss is NaN from the next one), exit status 1, and every
    checkpoint on disk is finite."""
    work = tmp_path / 'work'
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    out = subprocess.run([
        sys.executable, 'tools/train.py',
        'configs/kd_resnet4b_resnet20_cifar10.py', '--work-dir',
        str(work), '--cfg-options', 'optim_wrapper.optimizer.lr=1e6',
        'train_cfg.max_iters=30', 'train_cfg.val_interval=1000',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=16',
        'train_dataloader.num_workers=0'
    ], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode != 0, log[-2000:]
    assert 'DivergenceError: training diverged at iteration' in log
    stopped = int(log.split('diverged at iteration ')[1].split(':')[0])
    saved = sorted(glob.glob(osp.join(work, 'iter_*.pth')),
                   key=lambda p: int(p.split('_')[-1][:-4]))
    assert saved and f'iter_{stopped - 1}.pth' in log.split(
        'DivergenceError')[-1]
    assert int(saved[-1].split('_')[-1][:-4]) == stopped - 1
    from kdiga_mmrazor.checkpoint import safe_torch_load
    for path in saved:
        weights = safe_torch_load(path)['state_dict']
        assert all(torch.isfinite(v).all() for v in weights.values()
                   if v.is_floating_point()), path
    assert stopped < 30

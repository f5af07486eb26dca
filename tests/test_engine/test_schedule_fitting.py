"""Fitting a config's learning-rate schedule into a shortened run: the
fitted run passes through the config's learning rates at proportional
iterations (MMEngine's own schedulers, stepped as its hook steps them)."""
import argparse
import math

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import PARAM_SCHEDULERS

from kdiga_mmrazor.engine.schedule_fitting import fitted_schedule_options

from ..conftest import REPO


def with_options(cfg: Config, options) -> Config:
    """``cfg`` after ``--cfg-options`` as ``tools/train.py`` parses them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config(cfg.to_dict())
    cfg.merge_from_dict(parser.parse_args(['--cfg-options',
                                           *options]).cfg_options)
    return cfg


def learning_rates(cfg: Config, iters: int, lr: float = 1.0):
    """The learning rate of each of ``iters`` iteration-based steps."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    schedulers = cfg.param_scheduler
    if not isinstance(schedulers, (list, tuple)):
        schedulers = [schedulers]
    built = []
    for scheduler in schedulers:
        scheduler = dict(scheduler)
        assert not scheduler.get('by_epoch', True)
        scheduler.pop('convert_to_iter_based', None)
        built.append(PARAM_SCHEDULERS.build(
            dict(scheduler, optimizer=optimizer)))
    rates = []
    for _ in range(iters):
        rates.append(optimizer.param_groups[0]['lr'])
        for scheduler in built:
            scheduler.step()
    return rates


def warmup_cosine(by_epoch: bool, unit: int) -> Config:
    return Config(dict(
        iters_per_epoch=10,
        train_cfg=dict(by_epoch=False, max_iters=100),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.01, by_epoch=by_epoch,
                 end=20 // unit, convert_to_iter_based=by_epoch),
            dict(type='CosineAnnealingLR', eta_min=1e-3, by_epoch=by_epoch,
                 begin=20 // unit, end=100 // unit,
                 convert_to_iter_based=by_epoch),
        ]))


def test_fitted_run_passes_through_the_configs_rates_at_scaled_steps():
    config = warmup_cosine(by_epoch=False, unit=1)
    full = learning_rates(config, 100)
    for cfg in (config, warmup_cosine(by_epoch=True, unit=10)):
        fitted = learning_rates(
            with_options(cfg, fitted_schedule_options(cfg, 10)), 10)
        # The cosine part, begin 20 → 2 and T_max 80 → 8, is the same curve.
        assert fitted[2:] == pytest.approx(full[20::10], rel=1e-9)
        # MMEngine's LinearLR reaches its end factor one step before `end`:
        # each warm-up step of the fitted run lies between the config's
        # rates at the neighbouring scaled steps.
        assert fitted[0] == full[0] == pytest.approx(0.01)
        assert full[10] < fitted[1] == pytest.approx(full[20])
        assert full[20] == pytest.approx(1.0)


def test_the_vit_warm_up_no_longer_outlasts_a_30_iteration_run():
    cfg = Config.fromfile(
        f'{REPO}/configs/kdiga_resnet4b_vit-tiny-p4_cifar10.py')
    lr = cfg.optim_wrapper.optimizer.lr
    options = fitted_schedule_options(cfg, 30)
    # 5 of 200 epochs would be 0.75 iterations: the warm-up takes two.
    assert 'param_scheduler.0.end=2' in options
    assert 'param_scheduler.1.begin=2' in options
    assert 'param_scheduler.1.end=30' in options
    rates = learning_rates(with_options(cfg, options), 30, lr)
    assert rates[0] == pytest.approx(1e-3 * lr)
    assert rates[1] == pytest.approx(lr)
    assert rates[2] == pytest.approx(lr)
    assert all(a > b for a, b in zip(rates[2:], rates[3:]))
    eta_min = cfg.param_scheduler[1].eta_min
    assert rates[-1] == pytest.approx(
        eta_min + (lr - eta_min) * (1 + math.cos(math.pi * 27 / 28)) / 2)
    # Unfitted, the whole run is warm-up: 1,955 iterations from 1e-3·lr.
    assert cfg.param_scheduler[0].end * cfg.iters_per_epoch == 1955


def test_one_cycle_and_step_schedules_keep_their_shape():
    pretrained = Config.fromfile(
        f'{REPO}/configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py')
    options = fitted_schedule_options(pretrained, 100)
    assert 'param_scheduler.total_steps=100' in options  # as the calibration
    assert fitted_schedule_options(pretrained, 391) == [
        'param_scheduler.by_epoch=False',
        'param_scheduler.convert_to_iter_based=False',
        'param_scheduler.begin=0', 'param_scheduler.end=391',
        'param_scheduler.total_steps=391']

    scratch = Config.fromfile(
        f'{REPO}/configs/kdiga_resnet4b_resnet20_cifar10.py')
    fitted = with_options(scratch, fitted_schedule_options(scratch, 391))
    rates = learning_rates(fitted, 391, 0.1)
    # Milestones at epochs 100 and 150 of 200: iterations 195.5 and 293.25.
    assert rates[195] == pytest.approx(0.1)
    assert rates[196] == pytest.approx(0.01)
    assert rates[292] == pytest.approx(0.01)
    assert rates[293] == pytest.approx(0.001)


def test_schedules_that_cannot_be_fitted_are_refused_by_name():
    cfg = warmup_cosine(by_epoch=False, unit=1)
    cfg.param_scheduler[1] = dict(type='ExponentialLR', gamma=0.9,
                                  by_epoch=False)
    with pytest.raises(ValueError, match=r'param_scheduler\.1: ExponentialLR'):
        fitted_schedule_options(cfg, 10)
    epochs = warmup_cosine(by_epoch=True, unit=10)
    epochs.pop('iters_per_epoch')
    with pytest.raises(ValueError, match='iters_per_epoch'):
        fitted_schedule_options(epochs, 10)
    with pytest.raises(ValueError, match='iters >= 1'):
        fitted_schedule_options(cfg, 0)
    assert fitted_schedule_options(Config(dict(train_cfg=dict(
        max_iters=5))), 2) == []

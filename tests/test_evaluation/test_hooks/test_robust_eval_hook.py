"""RobustEvalHook on a real Runner: after validation (metrics for the
logger, the visualizer and save_best), at a training interval, after a
test; DDP-free unit checks of its options.

The toy data and model (``../conftest.py``): 12 constant images at levels
(0.2, 0.5, 0.8), label ``i % 3``, index 11 mislabelled; ``ShiftAttack``
(+0.2 on every pixel) breaks levels 0.2 and 0.5 and leaves 0.8: clean
11/12, robust 3/12 (indices 2, 5, 8).
"""
import glob
import json
import os.path as osp

import pytest
from mmengine.runner import Runner

from kdiga_mmrazor.evaluation.hooks import RobustEvalHook

from ..conftest import runner_cfg

SHIFT = dict(type='ShiftAttack', eps=0.2)
CLEAN, ROBUST = 100 * 11 / 12, 100 * 3 / 12


def _train_runner(tmp_path, hook, max_iters=2, val=True, **extra):
    """A 2-iteration training run with lr 0 (the model does not change),
    validation after iteration 2, and the hook."""
    cfg = runner_cfg(
        tmp_path, dataset=dict(type='RobustToyDataset', mislabel=[11]),
        val_cfg=dict(type='ValLoop') if val else None)
    cfg.update(
        train_dataloader=dict(
            dataset=dict(type='RobustToyDataset', mislabel=[11]),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4, num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters,
                       val_interval=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        custom_hooks=[dict(type='RobustEvalHook', **hook)],
        visualizer=dict(type='Visualizer',
                        vis_backends=[dict(type='LocalVisBackend')]),
        # unique per test: MMEngine reuses a visualizer (and its save dir)
        # of the same name
        experiment_name=f'hook_{osp.basename(str(tmp_path))}',
        **extra)
    if not val:
        cfg.pop('val_cfg', None)
    return Runner.from_cfg(cfg)


def _scalars(work_dir):
    (path, ) = glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                  'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_after_validation_metrics_reach_logger_visualizer_and_save_best(
        tmp_path):
    runner = _train_runner(
        tmp_path, dict(attacks=[SHIFT], num_samples=None),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=100,
                            save_best='robust/shift_linf_0.2/acc')))
    runner.train()
    val = [r for r in _scalars(tmp_path) if 'robust/clean_acc' in r]
    assert len(val) == 1
    assert val[0]['robust/clean_acc'] == pytest.approx(CLEAN)
    assert val[0]['robust/shift_linf_0.2/acc'] == pytest.approx(ROBUST)
    assert val[0]['accuracy/top1'] == pytest.approx(CLEAN)  # val_cfg's
    best = glob.glob(osp.join(str(tmp_path), 'best_robust_shift*_iter_2.pth'))
    assert len(best) == 1, glob.glob(osp.join(str(tmp_path), '*.pth'))
    assert runner.message_hub.get_scalar(
        'val/robust/shift_linf_0.2/acc').current() == pytest.approx(ROBUST)


def test_a_fixed_seeded_subset_is_the_same_every_time(tmp_path):
    hook = RobustEvalHook(attacks=[SHIFT], num_samples=6, balanced=True,
                          seed=3)
    runner = _train_runner(tmp_path, dict(attacks=[SHIFT]))
    first = hook.evaluate(runner)
    indices = hook.result_record()['subset']['indices_sha256']
    again = RobustEvalHook(attacks=[SHIFT], num_samples=6, balanced=True,
                           seed=3)
    assert again.evaluate(runner) == first
    assert again.result_record()['subset']['indices_sha256'] == indices
    assert hook.result_record()['subset']['selected'] == 6


def test_interval_mode_evaluates_during_training_without_a_val_loop(
        tmp_path):
    runner = _train_runner(
        tmp_path, dict(attacks=[SHIFT], num_samples=None, interval=1,
                       by_epoch=False, dataloader=dict(
                           dataset=dict(type='RobustToyDataset',
                                        mislabel=[11]),
                           sampler=dict(type='DefaultSampler',
                                        shuffle=False),
                           batch_size=4, num_workers=0)),
        val=False)
    runner.train()
    records = [r for r in _scalars(tmp_path) if 'robust/clean_acc' in r]
    assert [r['step'] for r in records] == [1, 2]
    assert all(r['robust/shift_linf_0.2/acc'] == pytest.approx(ROBUST)
               for r in records)


def test_after_test_it_evaluates_the_test_data(tmp_path):
    cfg = runner_cfg(
        tmp_path, dataset=dict(type='RobustToyDataset', mislabel=[11]),
        test_cfg=dict(type='TestLoop'))
    cfg['custom_hooks'] = [
        dict(type='RobustEvalHook', attacks=[SHIFT], num_samples=None,
             on_test=True),
        dict(type='RobustResultsHook', model_name='toy')
    ]
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert metrics['robust/clean_acc'] == pytest.approx(CLEAN)
    assert metrics['robust/shift_linf_0.2/acc'] == pytest.approx(ROBUST)
    with open(osp.join(str(tmp_path), 'robust_results.md')) as f:
        assert f.read().splitlines()[2] == (
            f'| toy | {CLEAN:.2f} | {ROBUST:.2f} |')


def test_options_are_checked_when_the_hook_is_built():
    with pytest.raises(ValueError, match='attacks is empty'):
        RobustEvalHook(attacks=[])
    with pytest.raises(ValueError, match='interval must be a positive'):
        RobustEvalHook(attacks=[SHIFT], interval=0)


def test_a_config_without_val_data_names_the_fix(tmp_path):
    runner = _train_runner(tmp_path, dict(attacks=[SHIFT]), val=False)
    with pytest.raises(ValueError, match='no val_dataloader.*dataloader='):
        RobustEvalHook(attacks=[SHIFT]).evaluate(runner)

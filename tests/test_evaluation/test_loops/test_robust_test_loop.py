"""RobustTestLoop: the test hooks and test_step, the traceable record, and
DDP on CPU (gloo, 2 processes) counting each sample once."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from ...conftest import free_port
from .test_robust_val_loop import MISLABELLED, SHIFT, RecordingHook

HERE = osp.dirname(osp.abspath(__file__))


def test_test_loop_calls_test_hooks(make_runner):
    runner = make_runner(
        dataset=MISLABELLED,
        test_cfg=dict(type='RobustTestLoop', attacks=[SHIFT]))
    hook = RecordingHook()
    runner.register_hook(hook)
    metrics = runner.test()
    iters = ['before_test_iter', 'after_test_iter'] * 3
    assert hook.calls == ['before_test', 'before_test_epoch'] + iters + [
        'after_test_epoch', 'after_test'
    ]
    assert hook.metrics == metrics


def test_record_traces_attacks_subset_and_versions(make_runner):
    runner = make_runner(
        test_cfg=dict(
            type='RobustTestLoop',
            attacks=[dict(type='PGDAttack', eps=8 / 255, steps=3, seed=5)],
            num_samples=6,
            seed=2))
    runner.test()
    record = runner.test_loop.result_record()
    attack, = record['attacks']
    assert attack == dict(
        type='PGDAttack',
        name='pgd3_linf_8',
        norm='linf',
        eps=8 / 255,
        seed=5,
        alpha=2.5 * (8 / 255) / 3,
        steps=3,
        random_start=True,
        restarts=1,
        loss='ce')
    assert record['subset']['num_samples'] == 6
    assert record['subset']['seed'] == 2
    assert len(record['subset']['indices_sha256']) == 64
    for lib in ('torch', 'mmpretrain', 'mmrazor', 'pyautoattack'):
        assert record['versions'][lib]
    assert record['metrics']['robust/pgd3_linf_8/acc'] == 100.0
    json.dumps(record)  # serialisable as it is


def _run_ddp_script(tmp_path, world_size):
    out = tmp_path / f'ws{world_size}'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([
        sys.executable,
        osp.join(HERE, 'ddp_robust_eval.py'),
        str(out),
        str(world_size),
        str(free_port())
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [
        json.loads((out / f'rank{r}.json').read_text())
        for r in range(world_size)
    ]


def test_ddp_gathers_each_sample_once_and_matches_one_process(tmp_path):
    # 13 samples, batch 2, 2 ranks: DefaultSampler pads rank 1 with a
    # repeat of sample 0, so 14 results are gathered for 13 samples
    ranks = _run_ddp_script(tmp_path, 2)
    single, = _run_ddp_script(tmp_path, 1)
    assert [r['world_size'] for r in ranks] == [2, 2]
    assert sorted(ranks[0]['seen'] + ranks[1]['seen']) == sorted(
        list(range(13)) + [0])
    for r in ranks:  # every rank returns the broadcast metrics
        assert r['metrics'] == single['metrics']
    # 13 images: level 0.8 at 2, 5, 8, 11 (11 mislabelled), so the shift
    # keeps 3; 12 correct clean
    assert single['metrics']['robust/clean_acc'] == pytest.approx(12 / 13 *
                                                                  100)
    assert single['metrics']['robust/shift_linf_0.2/acc'] == pytest.approx(
        3 / 13 * 100)

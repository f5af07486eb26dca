"""The runs of a γ sweep: the grid, the commands of each run, and resuming
(nothing reruns that is done, a missing test reruns only the test, a work
dir of other settings is refused before anything runs)."""
import json
import math
import os
import os.path as osp
import re

import pytest

from kdiga_mmrazor.engine.gamma_sweep import (
    GAMMA_KEY,
    SETTINGS,
    Sweep,
    check_gammas,
    gamma_dir,
    geometric_grid,
    run_sweep,
)
from kdiga_mmrazor.engine.method_comparison import ROBUST_EVAL
from kdiga_mmrazor.engine.run_records import config_digest

from ..conftest import REPO
from .conftest import FakeRuns, clean_of, robust_of

KDIGA = 'configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py'
CIFAR_LINF_2 = osp.join(REPO, 'configs', '_base_', 'robust_eval',
                        'cifar10_linf_2.py')


def sweep(**kwargs) -> Sweep:
    settings = dict(config=KDIGA, gammas=[0.1, 0.01, 1.0], iters=7,
                    num_samples=30, robust_eval=osp.join(REPO, ROBUST_EVAL))
    return Sweep(**dict(settings, **kwargs))


def test_geometric_grid_is_even_in_log_gamma():
    grid = geometric_grid(0.01, 1.0, 5)
    assert grid[0] == 0.01 and grid[-1] == 1.0
    assert grid == pytest.approx([0.01, 10**-1.5, 0.1, 10**-0.5, 1.0],
                                 rel=1e-12)
    steps = [math.log(b / a) for a, b in zip(grid, grid[1:])]
    assert steps == pytest.approx([math.log(10) / 2] * 4, rel=1e-12)
    assert geometric_grid(0.2, 0.8, 2) == [0.2, 0.8]


@pytest.mark.parametrize('args, option', [
    ((0.01, 1.0, 1), '--num'), ((0.01, 1.0, 2.5), '--num'),
    ((0.0, 1.0, 5), '--gamma-min'), ((-0.1, 1.0, 5), '--gamma-min'),
    ((float('nan'), 1.0, 5), '--gamma-min'), ((0.1, 0.1, 5), '--gamma-max'),
    ((0.1, 0.05, 5), '--gamma-max'), ((0.1, float('inf'), 5), '--gamma-max'),
])
def test_geometric_grid_errors_name_the_option(args, option):
    with pytest.raises(ValueError, match=f'^{option} must'):
        geometric_grid(*args)


def test_explicit_gammas_are_sorted_and_checked():
    assert check_gammas([0.3, 0.03, 1]) == [0.03, 0.3, 1.0]
    for bad in ([0.0, 0.1], [-1.0], [float('inf')], []):
        with pytest.raises(ValueError, match='--gammas must be finite and '
                           '> 0'):
            check_gammas(bad)
    with pytest.raises(ValueError, match='repeats a value'):
        check_gammas([0.1, 0.1000000001])  # one work dir name, gamma_0.1


def test_each_gamma_is_trained_and_tested_in_its_work_dir(tmp_path):
    runs = FakeRuns()
    rows = run_sweep(sweep(cfg_options=('train_dataloader.batch_size=8', ),
                           attack='pgd20_linf_8'), str(tmp_path), runs)
    assert runs.runs() == [(t, g) for g in (0.0, 0.01, 0.1, 1.0)
                           for t in ('train.py', 'test.py')]
    train, test = runs.commands[2:4]  # γ = 0.01
    run_dir = str(tmp_path / 'gamma_0.01')
    assert train[1:5] == ['tools/train.py', KDIGA, '--work-dir', run_dir]
    assert train[train.index('--cfg-options') + 1:] == [
        'randomness.seed=0',
        # the config's one-cycle schedule (391 iterations) fitted into 7
        'param_scheduler.by_epoch=False',
        'param_scheduler.convert_to_iter_based=False',
        'param_scheduler.begin=0', 'param_scheduler.end=7',
        'param_scheduler.total_steps=7',
        f'{GAMMA_KEY}=0.01',
        'train_dataloader.batch_size=8',
        'train_cfg.val_begin=100000000', 'train_cfg.max_iters=7',
        'default_hooks.checkpoint.interval=7']
    assert test[1:5] == ['tools/test.py', KDIGA,
                         osp.join(run_dir, 'iter_7.pth'), '--robust']
    assert test[5] == osp.join(REPO, ROBUST_EVAL)
    assert test[test.index('--attacks') + 1] == 'pgd20_linf_8'
    assert test[test.index('--work-dir') + 1] == osp.join(run_dir, 'test')
    assert test[test.index('--num-samples') + 1] == '30'
    assert [r['gamma'] for r in rows] == [0.0, 0.01, 0.1, 1.0]
    assert rows[2] == dict(gamma=0.1, work_dir=str(tmp_path / 'gamma_0.1'),
                           clean=clean_of(0.1), robust=robust_of(0.1))
    with open(tmp_path / 'gamma_0' / SETTINGS) as f:
        assert json.load(f) == dict(
            config=KDIGA, config_sha256=config_digest(KDIGA), gamma=0.0,
            iters=7, num_samples=30,
            attack='pgd20_linf_8', robust_eval=osp.join(REPO, ROBUST_EVAL),
            robust_eval_sha256=config_digest(osp.join(REPO, ROBUST_EVAL)),
            cfg_options=['train_dataloader.batch_size=8'], seed=0)


def test_a_second_sweep_runs_nothing_and_a_missing_test_only_tests(tmp_path):
    runs = FakeRuns()
    first = run_sweep(sweep(), str(tmp_path), runs)
    assert len(runs.commands) == 8
    assert run_sweep(sweep(), str(tmp_path), runs) == first
    assert len(runs.commands) == 8
    # a killed test: the training is done, only the test runs again
    os.remove(tmp_path / 'gamma_0.1' / 'test' / 'robust_results.json')
    # a killed training: no checkpoint recorded, it trains again
    os.remove(tmp_path / 'gamma_1' / 'last_checkpoint')
    os.remove(tmp_path / 'gamma_1' / 'test' / 'robust_results.json')
    assert run_sweep(sweep(), str(tmp_path), runs) == first
    assert runs.runs()[8:] == [('test.py', 0.1), ('train.py', 1.0),
                               ('test.py', 1.0)]
    # the grid grows: only the new γ runs
    run_sweep(sweep(gammas=[0.01, 0.1, 0.3, 1.0]), str(tmp_path), runs)
    assert runs.runs()[11:] == [('train.py', 0.3), ('test.py', 0.3)]


@pytest.mark.parametrize('change', [
    dict(iters=8), dict(num_samples=40), dict(attack='autoattack_linf_2'),
    dict(config='configs/kdiga_resnet4b_resnet20_cifar10.py'),
    dict(cfg_options=('train_dataloader.batch_size=8', )),
    dict(robust_eval=CIFAR_LINF_2, attack='pgd20_linf_2'),
    dict(seed=1), dict(seed=None),
])
def test_a_work_dir_of_other_settings_is_refused_before_any_run(
        tmp_path, change):
    runs = FakeRuns()
    run_sweep(sweep(gammas=[0.1]), str(tmp_path), runs)
    # γ = 1 is new, but γ = 0 (checked first) holds other settings
    with pytest.raises(ValueError) as error:
        run_sweep(sweep(gammas=[0.1, 1.0], **change), str(tmp_path), runs)
    message = str(error.value)
    assert message.startswith(f"{gamma_dir(str(tmp_path), 0.0)} holds a run "
                              'with other settings')
    key = next(iter(change))
    assert f"'{key}'" in message
    assert message.endswith('use another --work-dir or delete '
                            f"{tmp_path / 'gamma_0'}")
    assert len(runs.commands) == 4  # nothing ran for the refused sweep


def test_an_edited_robust_eval_file_is_refused(tmp_path):
    """The record holds the robust-eval file's content: an edited setting
    of the attack (here PGD-20 without its random start, same name) is
    not resumed."""
    robust_eval = tmp_path / 'robust_eval.py'
    original = open(osp.join(REPO, ROBUST_EVAL)).read().replace(
        "'./cifar10_linf_2.py'", repr(osp.join(osp.dirname(
            osp.join(REPO, ROBUST_EVAL)), 'cifar10_linf_2.py')))
    robust_eval.write_text(original)
    runs = FakeRuns()
    run_sweep(sweep(gammas=[0.1], robust_eval=str(robust_eval)),
              str(tmp_path / 'out'), runs)
    assert len(runs.commands) == 4
    edited = original.replace(
        "eps=2 / 255, norm='linf', steps=20)",
        "eps=2 / 255, norm='linf', steps=20, random_start=False)")
    assert edited != original
    robust_eval.write_text(edited)
    with pytest.raises(ValueError, match=r"gamma_0 holds a run with other "
                       r"settings .*'robust_eval_sha256'"):
        run_sweep(sweep(gammas=[0.1], robust_eval=str(robust_eval)),
                  str(tmp_path / 'out'), runs)
    assert len(runs.commands) == 4


def test_a_record_of_other_weights_is_tested_again(tmp_path):
    """A robust record that names another checkpoint (the run retrained
    after its test, a copied record) is not taken as this run's."""
    runs = FakeRuns()
    run_sweep(sweep(gammas=[0.1]), str(tmp_path), runs)
    record = tmp_path / 'gamma_0.1' / 'test' / 'robust_results.json'
    content = json.loads(record.read_text())
    content['checkpoint']['path'] = str(tmp_path / 'elsewhere.pth')
    record.write_text(json.dumps(content))
    run_sweep(sweep(gammas=[0.1]), str(tmp_path), runs)
    assert runs.runs()[4:] == [('test.py', 0.1)]


def test_a_foreign_work_dir_is_refused(tmp_path):
    os.makedirs(tmp_path / 'gamma_0.1')
    open(tmp_path / 'gamma_0.1' / 'last_checkpoint', 'w').close()
    runs = FakeRuns()
    with pytest.raises(ValueError, match=f'gamma_0.1 is not empty and has '
                       f'no {SETTINGS}'):
        run_sweep(sweep(gammas=[0.1]), str(tmp_path), runs)
    assert runs.commands == []


def test_an_unknown_attack_is_refused_before_any_run(tmp_path):
    runs = FakeRuns()
    with pytest.raises(ValueError, match=r"--attack pgd20_linf_3.*"
                       r"\['pgd20_linf_3'\] not among"):
        run_sweep(sweep(attack='pgd20_linf_3'), str(tmp_path), runs)
    with pytest.raises(ValueError, match='--iters must be an integer ≥ 1'):
        run_sweep(sweep(iters=0), str(tmp_path), runs)
    assert runs.commands == []


@pytest.mark.parametrize('value', [float('nan'), None])
def test_a_missing_or_non_finite_result_names_the_work_dir(tmp_path, value):
    runs = FakeRuns(robust=lambda g: value if g == 0.1 else robust_of(g))
    test_dir = tmp_path / 'gamma_0.1' / 'test'
    with pytest.raises(ValueError, match=f'^{re.escape(str(test_dir))}: the '
                       'robust results have no finite pgd20_linf_2/acc'):
        run_sweep(sweep(), str(tmp_path), runs)

"""The method comparison: commands for the budget, rows merged from the
robust tests, seconds per step relative to plain KD."""
import argparse
import os
import os.path as osp
import shutil

import pytest

from kdiga_mmrazor.checkpoint import file_sha256
from kdiga_mmrazor.engine.method_comparison import (
    AUTOATTACK,
    BUDGETS,
    Budget,
    Method,
    check_test_attacks,
    compare,
    train_command,
)
from kdiga_mmrazor.evaluation.tables import write_results

from ..conftest import REPO

KD = f'{REPO}/configs/kd_resnet4b_resnet20_cifar10-pretrained.py'
KDIGA = f'{REPO}/configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py'


def test_train_command_applies_the_budget():
    command = train_command(Method('KD', KD, options=('model.alpha=0.3', )),
                            'out/KD', BUDGETS['smoke'])
    assert command[1:5] == ['tools/train.py', KD, '--work-dir', 'out/KD']
    assert command[6:] == [
        'randomness.seed=0', 'model.alpha=0.3',
        'train_cfg.val_begin=100000000', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=8'
    ]
    paper = train_command(Method('KD', KD), 'w', BUDGETS['paper'])
    assert not [o for o in paper if 'max_iters' in o]


def test_training_is_seeded_unless_the_budget_or_the_method_says_otherwise():
    """The configs leave ``randomness.seed`` unset (a new seed per run);
    the budget's seed goes first, so a method's own option replaces it."""
    from mmengine.config import Config, DictAction

    def seed_of(command):  # the merged config, as tools/train.py reads it
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg = Config.fromfile(KD)
        cfg.merge_from_dict(parser.parse_args(
            command[command.index('--cfg-options'):]).cfg_options)
        return cfg.randomness.seed

    unseeded = Budget(iters=2, pgd_samples=1, aa_samples=0,
                      timing_repeats=1, seed=None)
    assert seed_of(train_command(Method('KD', KD), 'w', unseeded)) is None
    assert seed_of(train_command(Method('KD', KD), 'w', BUDGETS['cpu'])) == 0
    assert seed_of(train_command(
        Method('KD', KD, options=('randomness.seed=5', )), 'w',
        BUDGETS['cpu'])) == 5


def test_rows_merge_every_test_and_time_is_relative_to_kd(tmp_path):
    """A fake runner writes what the tools would: the last checkpoint and
    a robust record per test (accuracy = a number per method)."""
    accuracy = {'teacher': 60.0, 'KD': 7.0, 'KDIGA': 50.0}
    commands = []

    def run(command, log_path):
        commands.append(command)
        work_dir = command[command.index('--work-dir') + 1]
        name = osp.basename(work_dir.rstrip('/'))
        if command[1] == 'tools/train.py':
            os.makedirs(work_dir)
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(osp.join(work_dir, 'iter_5.pth'))
            return
        method = osp.basename(osp.dirname(work_dir))
        attacks = command[command.index('--attacks') + 1:
                          command.index('--work-dir')]
        # the AutoAttack test's smaller subset has another clean accuracy
        clean = 90.0 if 'pgd20_linf_2' in attacks else 80.0
        row = dict(model=method, member='student', clean_acc=clean,
                   **{f'{a}/acc': accuracy[method] - i
                      for i, a in enumerate(attacks)})
        write_results(dict(rows=[row], attacks=[]), work_dir)
        assert name.startswith('test_')

    def time_steps(configs, repeats, batch_size):
        assert sorted(configs) == ['KD', 'KDIGA'] and repeats == 1
        return {'KD': 0.5, 'KDIGA': 1.2}

    budget = Budget(iters=5, pgd_samples=10, aa_samples=4, timing_repeats=1)
    result = compare([
        Method('teacher', 'configs/resnet4b_cifar10.py', checkpoint='t.pth'),
        Method('KD', KD), Method('KDIGA', KDIGA)
    ], str(tmp_path), budget, run=run, time_steps=time_steps)
    assert [c[1] for c in commands].count('tools/train.py') == 2
    tests = [c for c in commands if c[1] == 'tools/test.py']
    assert [c[c.index('--num-samples') + 1] for c in tests] == ['10', '4'] * 3
    assert tests[0][2:4] == ['configs/resnet4b_cifar10.py', 't.pth']
    assert tests[2][3] == osp.join(str(tmp_path), 'KD', 'iter_5.pth')
    kdiga = result['rows'][2]
    assert kdiga['pgd20_linf_2/acc'] == 50.0
    assert kdiga['pgd20_linf_8/acc'] == 49.0
    assert kdiga[f'{AUTOATTACK}/acc'] == 50.0
    assert kdiga['× KD'] == 1.2 / 0.5 and 's/step' not in result['rows'][0]
    with open(tmp_path / 'comparison.md') as f:
        lines = f.read().splitlines()
    assert lines[0].startswith('| model | clean | pgd20_linf_2 |')
    assert lines[4] == ('| KDIGA | 90.00 | 50.00 | 49.00 | 50.00 | 1.20 | '
                        '2.40 |')


def test_the_tested_attacks_are_configured_in_the_robust_eval_file():
    """The names the comparison asks tools/test.py for exist in its
    robust-eval file (a misspelt one fails before anything trains)."""
    check_test_attacks()  # ROBUST_EVAL: pgd20_linf_2, AutoAttack, pgd20_linf_8
    with pytest.raises(ValueError, match=r"\['autoattack_standard_linf_2'\] "
                       'not among the attacks of'):
        check_test_attacks(
            names=('pgd20_linf_2', 'autoattack_standard_linf_2'))


def fake_tools(commands: list):
    """A stand-in for tools/train.py (writes ``iter_3.pth`` and MMEngine's
    ``last_checkpoint``) and tools/test.py (writes a robust record naming
    the checkpoint by path and sha256, as the results hook does)."""

    def run(command, log_path):
        commands.append(command)
        work_dir = command[command.index('--work-dir') + 1]
        os.makedirs(work_dir, exist_ok=True)
        if command[1] == 'tools/train.py':
            checkpoint = osp.join(work_dir, 'iter_3.pth')
            with open(checkpoint, 'w') as f:
                f.write(f'weights of run {len(commands)}')
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(checkpoint)
            return
        attacks = command[command.index('--attacks') + 1:
                          command.index('--work-dir')]
        samples = int(command[command.index('--num-samples') + 1])
        write_results(dict(
            rows=[dict(model='m', member='student', clean_acc=90.0)],
            attacks=[dict(name=a) for a in attacks],
            checkpoint=dict(path=command[3], sha256=file_sha256(command[3])),
            subset=dict(num_samples=samples)), work_dir)

    return run


def time_kd(configs, repeats, batch_size):
    return {'KD': 0.5}


def test_a_second_run_resumes_from_the_finished_work_dirs(tmp_path):
    """Trained methods with their final checkpoint and tests whose record
    matches (checkpoint, attacks, subset size) are not run again; a test
    of another subset size is."""
    commands = []
    run = fake_tools(commands)
    budget = Budget(iters=3, pgd_samples=10, aa_samples=0, timing_repeats=1)
    methods = [Method('KD', KD)]
    compare(methods, str(tmp_path), budget, run=run, time_steps=time_kd)
    assert [c[1] for c in commands] == ['tools/train.py', 'tools/test.py']
    compare(methods, str(tmp_path), budget, run=run, time_steps=time_kd)
    assert len(commands) == 2
    compare(methods, str(tmp_path), Budget(3, 20, 0, 1), run=run,
            time_steps=time_kd)
    assert [c[1] for c in commands[2:]] == ['tools/test.py']
    longer = Budget(iters=4, pgd_samples=20, aa_samples=0, timing_repeats=1)
    compare(methods, str(tmp_path), longer, run=run, time_steps=time_kd)
    assert commands[3][1] == 'tools/train.py'


def test_a_moved_out_dir_resumes_and_new_weights_are_tested_again(tmp_path):
    """After ``mv``, MMEngine's ``last_checkpoint`` and the robust record
    still name the old absolute path: the checkpoint is found in the work
    dir and the record matched by content, so nothing reruns; other
    weights under the same name are tested again."""
    commands = []
    run = fake_tools(commands)
    budget = Budget(iters=3, pgd_samples=10, aa_samples=0, timing_repeats=1)
    methods = [Method('KD', KD)]
    compare(methods, str(tmp_path / 'old'), budget, run=run,
            time_steps=time_kd)
    assert len(commands) == 2
    shutil.move(str(tmp_path / 'old'), str(tmp_path / 'new'))
    compare(methods, str(tmp_path / 'new'), budget, run=run,
            time_steps=time_kd)
    assert len(commands) == 2
    with open(tmp_path / 'new' / 'KD' / 'iter_3.pth', 'w') as f:
        f.write('other weights')
    compare(methods, str(tmp_path / 'new'), budget, run=run,
            time_steps=time_kd)
    assert [c[1] for c in commands[2:]] == ['tools/test.py']
    assert commands[2][3] == str(tmp_path / 'new' / 'KD' / 'iter_3.pth')


def test_final_checkpoint_name_of_iteration_and_epoch_schedules():
    from mmengine.config import Config

    from kdiga_mmrazor.engine.method_comparison import final_checkpoint_name
    by_iter = Config(dict(train_cfg=dict(max_iters=391)))
    by_epoch = Config(dict(train_cfg=dict(by_epoch=True, max_epochs=200)))
    assert final_checkpoint_name(by_iter, None) == 'iter_391.pth'
    assert final_checkpoint_name(by_iter, 5) == 'iter_5.pth'
    assert final_checkpoint_name(by_epoch, None) == 'epoch_200.pth'
    assert final_checkpoint_name(Config(dict()), None) is None

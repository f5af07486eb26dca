"""The method comparison: commands for the budget, rows merged from the
robust tests, seconds per step relative to plain KD."""
import argparse
import dataclasses
import os
import os.path as osp

import pytest

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
    budget = dataclasses.replace(BUDGETS['smoke'], fit_schedule=False)
    command = train_command(Method('KD', KD, options=('model.alpha=0.3', )),
                            'out/KD', budget)
    assert command[1:5] == ['tools/train.py', KD, '--work-dir', 'out/KD']
    assert command[6:] == [
        'randomness.seed=0', 'model.alpha=0.3',
        'train_cfg.val_begin=100000000', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=8'
    ]
    paper = train_command(Method('KD', KD), 'w', BUDGETS['paper'])
    assert not [o for o in paper if 'max_iters' in o]


def test_a_shorter_run_fits_the_schedule_and_iads_warm_up():
    """The cpu budget's 100 iterations of a one-epoch (391-iteration)
    config: the one-cycle schedule and IAD's warm-up (117 iterations, which
    would otherwise outlast the run) are scaled by 100/391; a method's own
    options come after and win; a run of the config's length is left as
    it is."""
    iad = f'{REPO}/configs/iad_resnet4b_resnet20_cifar10-pretrained.py'
    command = train_command(Method('IAD', iad, options=(
        'model.iad_warmup_iters=5', )), 'w', BUDGETS['cpu'])
    options = command[command.index('--cfg-options') + 1:]
    assert 'param_scheduler.total_steps=100' in options
    assert 'param_scheduler.end=100' in options
    assert options.index('model.iad_warmup_iters=30') < options.index(
        'model.iad_warmup_iters=5')  # round(117 · 100/391) = 30
    for budget in (dataclasses.replace(BUDGETS['cpu'], iters=391),
                   dataclasses.replace(BUDGETS['cpu'], fit_schedule=False)):
        command = train_command(Method('IAD', iad), 'w', budget)
        assert not [o for o in command
                    if o.startswith(('param_scheduler', 'model.iad'))]


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
            os.makedirs(work_dir, exist_ok=True)
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
    assert not any('× KD is blank' in line for line in lines)
    # without the KD row the ratio column is blank and the table says why
    without_kd = compare([Method('KDIGA', KDIGA)], str(tmp_path), budget,
                         run=run, time_steps=lambda *a, **k: {'KDIGA': 1.2})
    assert without_kd['rows'][0]['× KD'] is None
    assert without_kd['table'].endswith(
        "× KD is blank: plain KD (the 'KD' row) is not among the methods "
        'timed; add it to compare against it.\n')


def test_the_tested_attacks_are_configured_in_the_robust_eval_file():
    """The names the comparison asks tools/test.py for exist in its
    robust-eval file (a misspelt one fails before anything trains)."""
    check_test_attacks()  # ROBUST_EVAL: pgd20_linf_2, AutoAttack, pgd20_linf_8
    with pytest.raises(ValueError, match=r"\['autoattack_standard_linf_2'\] "
                       'not among the attacks of'):
        check_test_attacks(
            names=('pgd20_linf_2', 'autoattack_standard_linf_2'))


def test_final_checkpoint_name_of_iteration_and_epoch_schedules():
    from mmengine.config import Config

    from kdiga_mmrazor.engine.method_comparison import final_checkpoint_name
    by_iter = Config(dict(train_cfg=dict(max_iters=391)))
    by_epoch = Config(dict(train_cfg=dict(by_epoch=True, max_epochs=200)))
    assert final_checkpoint_name(by_iter, None) == 'iter_391.pth'
    assert final_checkpoint_name(by_iter, 5) == 'iter_5.pth'
    assert final_checkpoint_name(by_epoch, None) == 'epoch_200.pth'
    assert final_checkpoint_name(Config(dict()), None) is None


def _record(clean, accs, aa=None):
    attacks = [dict(name=f'pgd20_linf_{e}', norm='linf', eps=e / 255)
               for e in accs]
    row = dict(model='m', member='student', clean_acc=clean,
               **{f'pgd20_linf_{e}/acc': a for e, a in accs.items()})
    teacher = dict(model='m (teacher)', member='teacher', clean_acc=77.0,
                   **{f'pgd20_linf_{e}/acc': 50.0 for e in accs})
    return dict(rows=[row, teacher], attacks=attacks)


def test_eps_curves_of_every_method_from_their_records(tmp_path,
                                                       monkeypatch):
    """One line per method and attack family, the student's clean accuracy
    at ε = 0, the teacher rows of a distillation's record left out."""
    from kdiga_mmrazor.engine.method_comparison import plot_eps_curves
    from kdiga_mmrazor.evaluation import comparison
    records = {'KD': {'pgd': _record(85.0, {2: 9.0, 8: 0.0})},
               'KDIGA': {'pgd': _record(81.0, {2: 50.0, 8: 2.0}),
                         'curve': _record(80.0, {1: 66.0, 4: 24.0})}}
    path = plot_eps_curves(records, str(tmp_path / 'out' / 'eps.png'))
    assert path == str(tmp_path / 'out' / 'eps.png')
    assert (tmp_path / 'out' / 'eps.png').stat().st_size > 0
    seen = {}
    monkeypatch.setattr(comparison, 'plot_curves',
                        lambda data, path: seen.update(data))
    plot_eps_curves(records, str(tmp_path / 'again.png'))
    assert list(seen) == ['linf']
    lines = {k: [(round(e * 255), a) for e, a in v]
             for k, v in seen['linf'].items()}
    assert lines == {
        'KD pgd20_linf': [(0, 85.0), (2, 9.0), (8, 0.0)],
        'KDIGA pgd20_linf': [(0, 81.0), (1, 66.0), (2, 50.0), (4, 24.0),
                             (8, 2.0)]}



"""The runs of the reproduction, with a stand-in for the tools: which
configs train with which options, which tests each model gets."""
import dataclasses
import os.path as osp

from kdiga_mmrazor.reproduction.budgets import BUDGETS
from kdiga_mmrazor.reproduction.document import calibration_summary
from kdiga_mmrazor.reproduction.plan import (
    GAMMA_KEY,
    PAIRS,
    calibration_command,
    gamma_method,
    run_calibration,
    run_gamma_sweep,
    run_pair,
)

from .conftest import clean_of, fake_time_steps, option


def kinds_tested(lab, name):
    return [osp.basename(c[c.index('--work-dir') + 1]) for c in lab.commands
            if c[1] == 'tools/test.py'
            and c[c.index('--model-name') + 1] == name]


def test_pretrained_pair_tests_teacher_students_and_baselines(lab, tmp_path):
    budget = BUDGETS['smoke']
    result = run_pair(PAIRS['pretrained'], budget, str(tmp_path), run=lab,
                      time_steps=fake_time_steps)
    assert lab.trained() == ['KD', 'KDIGA', 'ARD']
    train = lab.commands[[c[1] for c in lab.commands].index('tools/train.py')]
    assert 'train_cfg.max_iters=2' in train
    assert 'train_dataloader.batch_size=8' in train
    assert kinds_tested(lab, 'teacher (resnet4b)') == [
        'test_curve', 'test_diagnostics', 'test_smoothing']
    assert kinds_tested(lab, 'KDIGA') == ['test_curve', 'test_diagnostics',
                                      'test_smoothing']
    assert kinds_tested(lab, 'ARD') == ['test_curve', 'test_diagnostics']
    smoothing = [c for c in lab.commands if 'test_smoothing' in
                 c[c.index('--work-dir') + 1]][0]
    assert '--attacks' not in smoothing
    assert option(smoothing, 'test_cfg.certification.0.n') == '32'
    assert option(smoothing, 'test_cfg.certification.0.n0') == '8'
    teacher_diag = [c for c in lab.commands if c[1] == 'tools/test.py'
                    and 'test_diagnostics' in c[c.index('--work-dir') + 1]]
    assert option(teacher_diag[0],
                  'test_cfg.diagnostics.gradient_alignment') is None
    assert option(teacher_diag[2],  # KD's: it has a teacher
                  'test_cfg.diagnostics.gradient_alignment') == 'True'
    assert result['seconds'] == {'KD': 0.25, 'KDIGA': 0.6, 'ARD': 2.0}
    assert list(result['records']) == [
        'teacher (resnet4b)', 'student before (ResNet-20)', 'KD', 'KDIGA',
        'ARD']


def test_autoattack_tests_only_the_budgets_aa_pairs(lab, tmp_path):
    budget = dataclasses.replace(BUDGETS['smoke'], aa_samples=4,
                                 aa_pairs=('pretrained', ), baselines=())
    run_pair(PAIRS['pretrained'], budget, str(tmp_path), run=lab,
             time_steps=None)
    run_pair(PAIRS['cnn'], budget, str(tmp_path), run=lab, time_steps=None)
    assert kinds_tested(lab, 'teacher (resnet4b)')[:2] == [
        'test_curve', 'test_autoattack']
    aa = [c for c in lab.commands if c[1] == 'tools/test.py'
          and osp.basename(c[c.index('--work-dir') + 1]) == 'test_autoattack']
    assert len(aa) == 4  # teacher, before, KD, KDIGA of the pre-trained pair
    assert all(osp.relpath(c[c.index('--work-dir') + 1],
                           tmp_path).startswith('pretrained') for c in aa)
    assert all(c[c.index('--num-samples') + 1] == '4' for c in aa)


def test_vit_pair_uses_its_own_iterations(lab, tmp_path):
    budget = dataclasses.replace(BUDGETS['smoke'], iters=5, vit_iters=3,
                                 vit_samples=7)
    run_pair(PAIRS['vit'], budget, str(tmp_path), run=lab, time_steps=None)
    trains = [c for c in lab.commands if c[1] == 'tools/train.py']
    assert [c[2] for c in trains] == [PAIRS['vit'].kd, PAIRS['vit'].kdiga]
    assert all('train_cfg.max_iters=3' in c for c in trains)
    # The ViT's warm-up and cosine are fitted into the run's 3 iterations.
    for command in trains:
        assert option(command, 'param_scheduler.0.end') == '2'
        assert option(command, 'param_scheduler.1.begin') == '2'
        assert option(command, 'param_scheduler.1.end') == '3'
        assert option(command, 'param_scheduler.1.by_epoch') == 'False'
    tests = [c for c in lab.commands if c[1] == 'tools/test.py']
    assert len(tests) == 4  # curve and diagnostics of KD and KDIGA
    assert all(c[c.index('--num-samples') + 1] == '7' for c in tests)
    run_pair(PAIRS['cnn'], budget, str(tmp_path), run=lab, time_steps=None)
    cnn = [c for c in lab.commands[len(trains) + 4:]
           if c[1] == 'tools/test.py']
    assert sorted(c[c.index('--num-samples') + 1] for c in cnn) == sorted(
        [str(budget.curve_samples), str(budget.diagnostics_samples)] * 2)
    # The ResNet-20 runs are the start of their configs' own schedule.
    cnn_trains = [c for c in lab.commands if c[1] == 'tools/train.py'][2:]
    assert len(cnn_trains) == 2
    assert not any('param_scheduler' in o for c in cnn_trains for o in c)


def test_the_configs_own_schedule_is_kept_when_the_budget_keeps_it(
        lab, tmp_path):
    budget = dataclasses.replace(BUDGETS['smoke'], iters=None, vit_iters=None)
    run_pair(PAIRS['vit'], budget, str(tmp_path), run=lab, time_steps=None)
    trains = [c for c in lab.commands if c[1] == 'tools/train.py']
    assert len(trains) == 2
    assert not any('param_scheduler' in o or 'max_iters' in o
                   for c in trains for o in c)


def test_gamma_sweep_reuses_kd_and_kdiga_and_orders_by_gamma(lab, tmp_path):
    budget = BUDGETS['smoke']
    run_pair(PAIRS['pretrained'], budget, str(tmp_path), run=lab,
             time_steps=None)
    before = len(lab.commands)
    sweep = run_gamma_sweep(budget, str(tmp_path), run=lab)
    assert lab.trained()[-2:] == ['KDIGA γ=0.03', 'KDIGA γ=1']
    assert [r['gamma'] for r in sweep['rows']] == [0.0, 0.03, 0.1, 1.0]
    assert [r['clean_acc'] for r in sweep['rows']] == [
        clean_of(g) for g in (0.0, 0.03, 0.1, 1.0)]
    assert len([c for c in lab.commands[before:]
                if c[1] == 'tools/train.py']) == 2
    assert gamma_method(0.1).name == 'KDIGA' and not gamma_method(0.1).options
    assert gamma_method(0.3).options == (f'{GAMMA_KEY}=0.3', )


def test_calibration_chooses_gamma_and_checks_its_full_run(lab, tmp_path):
    """Synthetic clean(γ) = 85 − 10·log10(1 + γ/0.05): the short runs
    cross 80 (KD − 5) between 0.1 and 0.3 (interpolated in log γ), the
    choice rounds down to 0.1, whose full run loses 4.77 points."""
    budget = BUDGETS['smoke']
    out = run_calibration(budget, str(tmp_path), kd_clean=clean_of(0.0),
                          run=lab)
    short = [c for c in lab.commands if c[1] == 'tools/train.py'][:6]
    assert all('param_scheduler.total_steps=2' in c for c in short)
    assert out['chosen_gamma'] == 0.1
    assert out['within'] and abs(out['drop'] - (85 - clean_of(0.1))) < 1e-9
    assert lab.trained()[-1] == 'KDIGA γ=0.1 (calibrated)'
    summary = calibration_summary(out, budget.settings())
    assert 'within the promised 5' in summary
    assert '**γ = 0.1**' in summary
    assert f'{clean_of(0.1):.1f}% clean (4.8 points below plain KD’s 85.0%' \
        in summary
    # the summary names the tool line that runs the same short runs
    command = calibration_command(budget)
    assert '--gammas 0.01 0.03 0.1 0.3 1 --iters 2 --num-samples 20' in \
        command
    assert command.endswith('param_scheduler.total_steps=2 '
                            'train_dataloader.batch_size=8')
    assert f'`{command}`' in summary


def test_calibration_runs_the_budgets_own_grid(lab, tmp_path):
    budget = dataclasses.replace(BUDGETS['smoke'],
                                 calibration_gammas=(0.03, 1.0))
    out = run_calibration(budget, str(tmp_path), kd_clean=clean_of(0.0),
                          run=lab)
    # γ = 0 (plain KD), the grid, then the full run at the chosen γ
    assert lab.trained() == ['gamma_0', 'gamma_0.03', 'gamma_1',
                             'KDIGA γ=0.075 (calibrated)']
    # clean 82.96 at 0.03 and 71.80 at 1 cross 80 at a fraction
    # 2.96 / 11.16 = 0.265 of the log-γ step: 0.03 · (1/0.03)^0.265 =
    # 0.076, rounded down to two digits
    assert out['chosen_gamma'] == 0.075
    assert '--gammas 0.03 1 --iters 2' in calibration_command(budget)

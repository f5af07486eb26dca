"""Resuming runs from their work dirs: finished trainings and tests are
not rerun, a moved out-dir still resumes, and a work dir of other
settings (options, seed, iterations, an edited config) or of unknown
origin is refused before anything runs."""
import json
import shutil

import pytest

from kdiga_mmrazor.engine.method_comparison import (
    PGD_ATTACKS,
    Budget,
    Method,
    TestSpec,
    compare,
    train_command,
)
from kdiga_mmrazor.engine.run_records import SETTINGS, config_digest

from ..conftest import REPO
from .conftest import fake_tools, time_kd

KD = f'{REPO}/configs/kd_resnet4b_resnet20_cifar10-pretrained.py'
KDIGA = f'{REPO}/configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py'


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
    compare(methods, str(tmp_path / 'longer'), longer, run=run,
            time_steps=time_kd)
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


def test_a_work_dir_of_other_training_settings_is_refused_before_any_run(
        tmp_path):
    """Weights trained with other options under the same checkpoint name
    (another seed, schedule or batch size) are never reused: the method's
    recorded settings differ, and nothing runs, not even the methods
    listed before it; a test of other options is run again."""
    commands = []
    run = fake_tools(commands)
    budget = Budget(iters=3, pgd_samples=10, aa_samples=0, timing_repeats=1)
    compare([Method('KD', KD)], str(tmp_path), budget, run=run,
            time_steps=time_kd)
    assert len(commands) == 2
    recorded = json.loads((tmp_path / 'KD' / SETTINGS).read_text())
    assert recorded == dict(config=KD, config_sha256=config_digest(KD),
                            cfg_options=train_command(
                                Method('KD', KD), 'any', budget)[6:])
    assert {'randomness.seed=0', 'train_cfg.max_iters=3',
            'param_scheduler.total_steps=3'} <= set(recorded['cfg_options'])
    for methods, other in (
            ([Method('KDIGA', KDIGA), Method('KD', KD, options=(
                'param_scheduler.total_steps=3', ))], budget),
            ([Method('KD', KD)], Budget(3, 10, 0, 1, seed=1)),
            ([Method('KD', KD)], Budget(4, 10, 0, 1))):
        with pytest.raises(ValueError, match=r'KD holds a run with other '
                           r'settings .*cfg_options.*use another --out-dir'):
            compare(methods, str(tmp_path), other, run=run,
                    time_steps=time_kd)
        assert len(commands) == 2
    # The same weights tested with other options are tested again.
    compare([Method('KD', KD)], str(tmp_path), budget, run=run,
            time_steps=time_kd, tests=[TestSpec('pgd', PGD_ATTACKS, 10)])
    assert len(commands) == 2
    compare([Method('KD', KD)], str(tmp_path), budget, run=run,
            time_steps=time_kd, tests=[TestSpec(
                'pgd', PGD_ATTACKS, 10,
                options=('test_cfg.diagnostics.eps=0.01', ))])
    assert [c[1] for c in commands[2:]] == ['tools/test.py']
    assert 'test_cfg.diagnostics.eps=0.01' in commands[2]


def test_a_work_dir_without_settings_is_refused(tmp_path):
    commands = []
    (tmp_path / 'KD').mkdir()
    (tmp_path / 'KD' / 'iter_3.pth').write_text('weights of unknown origin')
    with pytest.raises(ValueError, match=r'KD is not empty and has no '
                       r'comparison_settings.json \(not a run of this '
                       r'comparison\)'):
        compare([Method('KD', KD)], str(tmp_path),
                Budget(3, 10, 0, 1), run=fake_tools(commands),
                time_steps=time_kd)
    assert commands == []


def test_an_edited_config_is_not_resumed(tmp_path):
    """The work dir records the config's content: after an edit of the
    file the old weights are refused; the original content resumes."""
    config = tmp_path / 'method.py'
    original = "train_cfg = dict(max_iters=3)\nmodel = dict(alpha=0.5)\n"
    config.write_text(original)
    commands = []
    run = fake_tools(commands)
    budget = Budget(iters=3, pgd_samples=10, aa_samples=0, timing_repeats=1)
    methods = [Method('m', str(config))]
    compare(methods, str(tmp_path / 'out'), budget, run=run,
            time_steps=None)
    assert len(commands) == 2
    config.write_text(original.replace('0.5', '0.3'))
    with pytest.raises(ValueError, match=r'm holds a run with other '
                       r"settings .*'config_sha256'"):
        compare(methods, str(tmp_path / 'out'), budget, run=run,
                time_steps=None)
    config.write_text(original + '# a comment changes nothing\n')
    compare(methods, str(tmp_path / 'out'), budget, run=run,
            time_steps=None)
    assert len(commands) == 2


def test_an_edited_robust_eval_file_or_evaluated_config_is_tested_again(
        tmp_path):
    """A test records the robust-eval file and the method's config by
    content: editing an attack setting, or the config of a row that is
    only evaluated (its normalisation, its test pipeline), reruns the
    test instead of reusing the old record."""
    robust_eval = tmp_path / 'robust_eval.py'
    robust_eval.write_text("robust_eval = dict(attacks=[dict(\n"
                           "    type='PGDAttack', eps=2 / 255, steps=20)])\n")
    config = tmp_path / 'model.py'
    config.write_text("model = dict(mean=[125.3, 123.0, 113.9])\n")
    weights = tmp_path / 'weights.pth'
    weights.write_text('weights')
    commands = []
    run = fake_tools(commands)
    budget = Budget(iters=3, pgd_samples=10, aa_samples=0, timing_repeats=1)
    methods = [Method('model', str(config), checkpoint=str(weights))]
    tests = [TestSpec('pgd', ('pgd20_linf_2', ), 10, str(robust_eval))]

    def rerun():
        compare(methods, str(tmp_path / 'out'), budget, run=run,
                time_steps=None, tests=tests)
        return [c[1] for c in commands]

    assert rerun() == ['tools/test.py']
    assert rerun() == ['tools/test.py']  # nothing changed: resumed
    robust_eval.write_text(robust_eval.read_text().replace(
        'steps=20)', 'steps=20, random_start=False)'))
    assert rerun() == ['tools/test.py'] * 2
    config.write_text("model = dict(mean=[0.0, 0.0, 0.0])\n")
    assert rerun() == ['tools/test.py'] * 3
    assert rerun() == ['tools/test.py'] * 3

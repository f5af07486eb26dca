"""tools/analysis/calibrate_gamma.py: from any working directory, the sweep
with a faked runner prints the table, the chosen γ and its --cfg-options
line and writes them; a real run of two γ values trains and tests."""
import json
import os
import os.path as osp

import pytest

from kdiga_mmrazor.engine.gamma_sweep import GAMMA_KEY

from ..conftest import REPO, load_tool
from ..test_engine.conftest import FakeRuns

CONFIG = 'configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py'
STEM = 'kdiga_resnet4b_resnet20_cifar10-pretrained'


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/calibrate_gamma.py',
                     'kdiga_tools_calibrate_gamma')


def test_the_tool_prints_and_writes_the_chosen_gamma(tool, tmp_path,
                                                     monkeypatch, capsys):
    runs = FakeRuns()
    monkeypatch.setattr(tool, 'run_command', runs)
    monkeypatch.chdir(tmp_path)  # the config is found from the repository
    result = tool.main([CONFIG, '--max-clean-drop', '5', '--iters', '3',
                        '--cfg-options', 'train_dataloader.batch_size=8'])
    out = capsys.readouterr().out
    work_dir = tmp_path / 'work_dirs' / 'calibrate_gamma' / STEM
    assert sorted(os.listdir(work_dir)) == [
        'gamma_0', 'gamma_0.01', 'gamma_0.0316228', 'gamma_0.1',
        'gamma_0.316228', 'gamma_1', 'gamma_calibration.json',
        'gamma_calibration.md', 'gamma_calibration.png']
    # the default grid: 0.01 … 1, five γ; clean_of crosses 80 at 0.1081
    assert [r['gamma'] for r in result.rows] == pytest.approx(
        [0, 0.01, 10**-1.5, 0.1, 10**-0.5, 1], rel=1e-12)
    assert result.gamma == 0.1
    assert f'--cfg-options {GAMMA_KEY}=0.1\n' in out
    assert 'chosen γ = 0.1: expected clean 80.23, pgd20_linf_2 ' in out
    with open(work_dir / 'gamma_calibration.md') as f:
        assert f.read() in out
    with open(work_dir / 'gamma_calibration.json') as f:
        saved = json.load(f)
    assert saved['sweep']['config'] == CONFIG
    assert saved['sweep']['cfg_options'] == ['train_dataloader.batch_size=8']
    train = runs.commands[0]
    assert train[2] == CONFIG and 'train_cfg.max_iters=3' in train
    # every γ's run has the same seed (--seed, 0 by default)
    assert saved['sweep']['seed'] == 0
    assert all('randomness.seed=0' in c for c in runs.commands
               if c[1] == 'tools/train.py')
    assert os.getcwd() == REPO  # the runs start from the repository root
    # the same command again: nothing reruns, the same answer
    again = tool.main([CONFIG, '--max-clean-drop', '5', '--iters', '3',
                       '--cfg-options', 'train_dataloader.batch_size=8',
                       '--work-dir', str(work_dir)])
    assert len(runs.commands) == 12 and again.gamma == 0.1
    # another seed is another sweep: its work dir is refused
    with pytest.raises(SystemExit, match='other settings'):
        tool.main([CONFIG, '--max-clean-drop', '5', '--iters', '3',
                   '--cfg-options', 'train_dataloader.batch_size=8',
                   '--work-dir', str(work_dir), '--seed', '1'])


def test_explicit_gammas_and_the_edge_cases(tool, tmp_path, monkeypatch,
                                            capsys):
    runs = FakeRuns()
    monkeypatch.setattr(tool, 'run_command', runs)
    monkeypatch.chdir(tmp_path)
    args = [osp.join(REPO, CONFIG), '--gammas', '0.3', '0.03', '--work-dir',
            'sweep']
    result = tool.main(args + ['--max-clean-drop', '20'])
    assert (result.status, result.gamma) == ('all_within', 0.3)
    assert 'extend --gamma-max' in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path / 'sweep'))[:3] == [
        'gamma_0', 'gamma_0.03', 'gamma_0.3']
    monkeypatch.chdir(tmp_path)  # main() left it for the repository root
    result = tool.main(args + ['--max-clean-drop', '1'])
    out = capsys.readouterr().out
    assert (result.status, result.gamma) == ('none_within', None)
    assert 'lower --gamma-min' in out and '--cfg-options' not in out
    assert len(runs.commands) == 6  # the second drop reran nothing


@pytest.mark.parametrize('argv, message', [
    (['--gammas', '0.1', '--num', '3'], 'give --gammas or'),
    (['--gamma-min', '0'], '--gamma-min must be > 0'),
    (['--num', '1'], '--num must be an integer ≥ 2'),
    (['--cfg-options', 'train_dataloader.batch_size'], 'KEY=VALUE'),
    (['--attack', 'pgd20_linf_3'], r"\['pgd20_linf_3'\] not among"),
])
def test_bad_options_stop_before_any_run(tool, tmp_path, monkeypatch, argv,
                                         message):
    runs = FakeRuns()
    monkeypatch.setattr(tool, 'run_command', runs)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=message):
        tool.main([CONFIG, '--max-clean-drop', '5'] + argv)
    assert runs.commands == []
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match='CONFIG: no file nothere.py'):
        tool.main(['nothere.py', '--max-clean-drop', '5'])


def test_a_real_sweep_of_two_gammas(tool, tmp_path, cifar10_folder,
                                    monkeypatch, capsys):
    """γ = 0 and γ = 0.1, two iterations at batch 8, 20 test images (no
    dataloader workers to start): two MMEngine work dirs with their logs,
    checkpoints and robust results."""
    monkeypatch.setenv('KDIGA_CIFAR10_FOLDER', cifar10_folder)
    monkeypatch.chdir(tmp_path)
    result = tool.main([CONFIG, '--gammas', '0.1', '--iters', '2',
                        '--num-samples', '20', '--max-clean-drop', '100',
                        '--cfg-options', 'train_dataloader.batch_size=8',
                        'train_dataloader.num_workers=0',
                        'test_dataloader.num_workers=0'])
    assert (result.status, result.gamma) == ('all_within', 0.1)
    assert f'--cfg-options {GAMMA_KEY}=0.1\n' in capsys.readouterr().out
    for row in result.rows:
        assert 0 <= row['robust'] <= row['clean'] <= 100
        run_dir = row['work_dir']
        assert osp.isfile(osp.join(run_dir, 'iter_2.pth'))
        logs = [d for d in os.listdir(run_dir)
                if osp.isdir(osp.join(run_dir, d)) and d[:8].isdigit()]
        assert logs, os.listdir(run_dir)  # MMEngine's timestamped log dir
        with open(osp.join(run_dir, 'test', 'robust_results.json')) as f:
            record = json.load(f)
        assert record['subset']['num_samples'] == 20
        assert [a['name'] for a in record['attacks']] == ['pgd20_linf_2']
    work_dir = tmp_path / 'work_dirs' / 'calibrate_gamma' / STEM
    assert osp.isfile(work_dir / 'gamma_calibration.png')

"""tools/benchmarks/compare_methods.py: every method's config exists and
builds its row; a smoke budget runs the whole pipeline end to end."""
import os.path as osp

import pytest
from mmengine.config import Config

from ..conftest import REPO, load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/benchmarks/compare_methods.py', 'compare_methods')


def test_every_method_has_its_config_and_checkpoint(tool):
    rows = tool.methods('pretrained')
    assert [m.name for m in rows[:4]] == [
        'teacher (resnet4b)', 'student before (ResNet-20)', 'KD', 'KDIGA']
    for method in rows + tool.methods('scratch'):
        assert osp.isfile(osp.join(REPO, method.config)), method
        if method.checkpoint:
            assert osp.isfile(osp.join(REPO, method.checkpoint)), method
    scratch = {m.name: m for m in tool.methods('scratch')}
    assert 'student before (ResNet-20)' not in scratch
    for name in ('KD', 'KDIGA', 'ARD', 'RSLAD', 'IAD', 'AdaAD', 'ARD+IGDM',
                 'KDIGA+ARD'):  # every method, from scratch
        assert not scratch[name].config.endswith('-pretrained.py'), name
        assert Config.fromfile(osp.join(
            REPO, scratch[name].config)).model.get('student_ckpt') is None
    assert scratch['KDIGA'].config == \
        'configs/kdiga_resnet4b_resnet20_cifar10.py'
    assert {'PGD-AT', 'TRADES', 'FGSM-RS',
            'standard training (no attack)'} <= set(scratch)
    assert 'PGD-AT' not in {m.name for m in rows}
    with pytest.raises(SystemExit, match=r"unknown \['XYZ'\]"):
        tool.methods('pretrained', ['KD', 'XYZ'])


def test_smoke_budget_trains_tests_and_times(tool, tmp_path, cifar10_folder,
                                             monkeypatch):
    monkeypatch.setenv('KDIGA_CIFAR10_FOLDER', cifar10_folder)
    monkeypatch.chdir(REPO)  # the tool works from the repository root
    result = tool.main(['--budget', 'smoke', '--methods',
                        'teacher (resnet4b)', 'KD', 'KDIGA', '--out-dir',
                        str(tmp_path)])
    rows = {r['model']: r for r in result['rows']}
    assert set(rows) == {'teacher (resnet4b)', 'KD', 'KDIGA'}
    assert all(0 <= r['pgd20_linf_2/acc'] <= r['clean_acc'] <= 100
               for r in rows.values())
    assert rows['KD']['× KD'] == 1.0 and rows['KDIGA']['× KD'] > 0
    assert 's/step' not in rows['teacher (resnet4b)']
    assert osp.isfile(tmp_path / 'KDIGA' / 'test_pgd' /
                      'robust_results.json')
    with open(tmp_path / 'comparison.md') as f:
        assert f.read().count('\n') == 5
    assert (tmp_path / 'robust_acc_vs_eps.png').stat().st_size > 0
    # Rerun with another seed into the same out-dir: refused, nothing runs.
    with pytest.raises(SystemExit, match=r'compare_methods: .*KD holds a run '
                       r'with other settings .*randomness.seed=1'):
        tool.main(['--budget', 'smoke', '--seed', '1', '--methods', 'KD',
                   '--out-dir', str(tmp_path)])


def test_budget_overrides_from_the_command_line(tool, monkeypatch, tmp_path):
    seen = {}

    def fake_compare(methods, out_dir, budget):
        seen.update(budget=budget, names=[m.name for m in methods])
        return dict(table='', records={})

    monkeypatch.setattr(tool, 'compare', fake_compare)
    monkeypatch.chdir(REPO)
    tool.main(['--budget', 'cpu', '--iters', '391', '--aa-samples', '0',
               '--methods', 'KD', '--out-dir', str(tmp_path)])
    assert seen['names'] == ['KD']
    assert (seen['budget'].iters, seen['budget'].aa_samples,
            seen['budget'].pgd_samples) == (391, 0, 500)
    assert seen['budget'].seed == 0
    tool.main(['--budget', 'cpu', '--seed', '7', '--out-dir', str(tmp_path)])
    assert seen['budget'].seed == 7 and seen['budget'].iters == 100

"""tools/test.py's robust flags (end to end on the real ResNet-20 and a
few CIFAR-10 images) and tools/analysis/gather_robust_results.py."""
import argparse
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from kdiga_mmrazor.compat import file_sha256
from kdiga_mmrazor.evaluation import write_results
from kdiga_mmrazor.evaluation.tables import metrics_to_rows

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
RESNET20_CKPT = osp.join(REPO, 'checkpoints', 'akamaster_resnet20.th')


def _load_tool(relpath, name):
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def cli():
    return _load_tool('tools/test.py', 'kdiga_tools_test')


def _args(**kwargs):
    base = dict(
        config='configs/resnet20_cifar10.py',
        robust=False,
        num_samples=None,
        attacks=None,
        evaluate_teacher=False)
    base.update(kwargs)
    return argparse.Namespace(**base)


def _cfg(name):
    return Config.fromfile(osp.join(REPO, 'configs', name))


def test_robust_flag_uses_a_robust_eval_file(cli):
    cfg = cli.robust_config(
        _cfg('resnet20_cifar10.py'),
        _args(
            robust=osp.join(REPO, 'configs/_base_/robust_eval/'
                            'cifar10_linf_8.py'),
            num_samples=50,
            attacks=['pgd20_linf_8']))
    assert cfg.test_cfg.type == 'RobustTestLoop'
    assert cfg.test_cfg.num_samples == 50
    assert cfg.test_cfg.balanced is True
    assert [a['type'] for a in cfg.test_cfg.attacks] == ['PGDAttack']
    assert cfg.default_hooks.logger.interval == 1


def test_robust_flag_without_robust_eval_names_the_fix(cli):
    with pytest.raises(ValueError, match=r'defines no robust_eval.*_base_'):
        cli.robust_config(
            _cfg('resnet20_cifar10.py'), _args(robust=True))


def test_robust_options_need_a_robust_loop(cli):
    with pytest.raises(ValueError, match='add --robust'):
        cli.robust_config(
            _cfg('resnet20_cifar10.py'), _args(num_samples=10))


def test_unknown_attack_name_lists_the_configured_ones(cli):
    with pytest.raises(ValueError, match=r"\['pgd20_linf_3'\] not among.*"
                       r'pgd20_linf_2'):
        cli.robust_config(
            _cfg('robust_eval/resnet20_cifar10.py'),
            _args(attacks=['pgd20_linf_3']))


def test_robust_test_prints_and_writes_traceable_tables(
        tmp_path, cifar10_folder):
    work_dir = str(tmp_path / 'r20')
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    proc = subprocess.run([
        sys.executable, 'tools/test.py', 'configs/resnet20_cifar10.py',
        RESNET20_CKPT, '--robust', 'configs/_base_/robust_eval/'
        'cifar10_linf_8.py', '--num-samples', '10', '--attacks',
        'pgd20_linf_8', '--model-name', 'ResNet-20', '--work-dir', work_dir,
        '--cfg-options', 'test_dataloader.num_workers=0',
        'test_cfg.attacks.0.steps=2'
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    with open(osp.join(work_dir, 'robust_results.json')) as f:
        record = json.load(f)
    clean = record['metrics']['robust/clean_acc']
    assert '| model | clean | pgd2_linf_8 |' in log
    assert f'| ResNet-20 | {clean:.2f} |' in log
    assert record['checkpoint']['sha256'] == file_sha256(RESNET20_CKPT)
    assert record['subset']['selected'] == 10
    attack, = record['attacks']
    assert (attack['type'], attack['steps'], attack['eps']) == ('PGDAttack',
                                                                2, 8 / 255)
    assert record['versions']['pyautoattack']
    with open(osp.join(work_dir, 'robust_results.csv')) as f:
        assert f.readline().strip() == (
            'model,member,clean_acc,pgd2_linf_8/acc')
    assert osp.isfile(osp.join(work_dir, 'robust_results.md'))


def _record(name, clean, accs):
    metrics = {'robust/clean_acc': clean}
    attacks = []
    for eps, acc in accs:
        attack = f'pgd20_linf_{eps}'
        metrics[f'robust/{attack}/acc'] = acc
        attacks.append(
            dict(type='PGDAttack', name=attack, norm='linf',
                 eps=eps / 255))
    return dict(
        model=name,
        metrics=metrics,
        rows=metrics_to_rows(metrics, name, {'student': 'robust'}),
        attacks=attacks)


def test_gather_tool_table_and_curves(tmp_path):
    gather = _load_tool('tools/analysis/gather_robust_results.py',
                        'kdiga_tools_gather')
    write_results(
        _record('resnet4b_cifar10', 76.5, [(2, 61.0), (8, 15.0)]),
        str(tmp_path / 'teacher'))
    write_results(
        _record('kdiga_student', 80.0, [(2, 40.0)]), str(tmp_path / 'kdiga'))
    paths = gather.main([
        str(tmp_path / 'teacher'),
        str(tmp_path / 'kdiga'), '--names', 'teacher', 'KDIGA', '--out-dir',
        str(tmp_path / 'cmp')
    ])
    with open(paths['md']) as f:
        assert f.read() == ('| model | clean | pgd20_linf_2 | pgd20_linf_8 |\n'
                            '|---|---:|---:|---:|\n'
                            '| teacher | 76.50 | 61.00 | 15.00 |\n'
                            '| KDIGA | 80.00 | 40.00 | – |\n')
    with open(paths['png'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    data = gather.curves(
        [_record('t', 76.5, [(2, 61.0), (8, 15.0)])], ['teacher'])
    assert data == {
        'linf': {
            'teacher pgd20_linf': [(0.0, 76.5), (2 / 255, 61.0),
                                   (8 / 255, 15.0)]
        }
    }
    with pytest.raises(ValueError, match='one per work dir'):
        gather.gather_rows([_record('t', 1.0, [])], ['a', 'b'])

"""RobustEvalHook dropped into configs users already have: MMPretrain's
stock ResNet-18 CIFAR-10 config and MMRazor's own KD algorithm
(configs/kd_resnet4b_resnet20_cifar10.py), one ``custom_hooks`` entry
each; under torchrun with 2 gloo ranks the robust accuracy equals the
single-process one on the same subset (FGSM is deterministic)."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from ..conftest import REPO, free_port

HOOK = ("custom_hooks = [dict(type='RobustEvalHook', num_samples=10, "
        "balanced=False, attacks=[dict(type='FGSMAttack', eps=2 / 255)])]\n")
BEST = ("default_hooks = dict(checkpoint=dict("
        "save_best='robust/fgsm_linf_2/acc'))\n")
SMALL = [
    'train_dataloader.dataset.indices=32', 'train_dataloader.num_workers=0',
    'val_dataloader.dataset.indices=20', 'val_dataloader.num_workers=0',
    'test_dataloader.dataset.indices=20', 'test_dataloader.num_workers=0',
    'default_hooks.logger.interval=1'
]


def _config(tmp_path, base, extra=''):
    path = tmp_path / 'user_config.py'
    path.write_text(f'_base_ = [{base!r}]\n' + HOOK + BEST + extra)
    return str(path)


def _run(args, cifar10_folder, env_extra=None):
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder,
               **(env_extra or {}))
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    out = subprocess.run(args, cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    return log


def _value(log, key):
    found = re.findall(rf'\s{re.escape(key)}: ([\d.]+)', log)
    assert found, f'{key} not logged'
    return float(found[-1])


@pytest.fixture(scope='module')
def stock_runs(tmp_path_factory, cifar10_folder):
    """The stock config trained one epoch on one process and on two."""
    tmp = tmp_path_factory.mktemp('stock')
    config = _config(tmp, 'mmpretrain::resnet/resnet18_8xb16_cifar10.py')
    options = ['--cfg-options', 'train_cfg.max_epochs=1'] + SMALL
    single = _run([sys.executable, 'tools/train.py', config, '--work-dir',
                   str(tmp / 'single')] + options, cifar10_folder)
    ddp = _run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
                str(tmp / 'ddp')] + options, cifar10_folder,
               dict(PORT=str(free_port())))
    return config, tmp, single, ddp


def test_stock_mmpretrain_config_logs_robust_accuracy_and_saves_best(
        stock_runs):
    _, tmp, log, _ = stock_runs
    acc = _value(log, 'robust/fgsm_linf_2/acc')
    clean = _value(log, 'robust/clean_acc')
    assert acc <= clean and acc % 10 == 0 and clean % 10 == 0  # 10 images
    assert _value(log, 'accuracy/top1') % 5 == 0  # its own, on 20 images
    best = [f for f in os.listdir(tmp / 'single') if f.startswith('best_')]
    assert best == ['best_robust_fgsm_linf_2_acc_epoch_1.pth']


def test_two_gloo_ranks_give_the_single_process_robust_accuracy(
        stock_runs, cifar10_folder):
    """The DDP run's validation counted each of the 10 images once: a
    single-process test of its checkpoint on the same subset agrees."""
    config, tmp, _, ddp = stock_runs
    assert 'Distributed training: True' in ddp
    test = _run([
        sys.executable, 'tools/test.py', config,
        str(tmp / 'ddp' / 'epoch_1.pth'), '--work-dir',
        str(tmp / 'ddp_test'), '--cfg-options',
        'custom_hooks.0.on_test=True'
    ] + SMALL, cifar10_folder)
    for key in ('robust/clean_acc', 'robust/fgsm_linf_2/acc'):
        assert _value(test, key) == _value(ddp, key), key
    assert osp.isfile(tmp / 'ddp_test' / 'robust_results.json')


def test_mmrazor_kd_algorithm_config_with_the_hook(tmp_path, cifar10_folder):
    config = _config(
        tmp_path, osp.join(REPO, 'configs', 'kd_resnet4b_resnet20_cifar10.py'))
    log = _run([
        sys.executable, 'tools/train.py', config, '--work-dir',
        str(tmp_path / 'kd'), '--cfg-options', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'val_cfg.num_samples=None',
        'val_cfg.attacks.0.steps=1', 'custom_hooks.0.evaluate_teacher=True',
        'train_dataloader.batch_size=8'
    ] + SMALL, cifar10_folder)
    assert _value(log, 'robust/fgsm_linf_2/acc') <= _value(
        log, 'robust/clean_acc')
    assert 'teacher/robust/fgsm_linf_2/acc' in log
    best = [f for f in os.listdir(tmp_path / 'kd') if f.startswith('best_')]
    assert best == ['best_robust_fgsm_linf_2_acc_iter_2.pth']

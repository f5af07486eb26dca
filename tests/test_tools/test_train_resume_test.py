"""End to end through the command-line tools, as a user runs them."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from ..conftest import REPO, RESNET20_CKPT, TEACHER_CKPT

KD_CONFIG = osp.join(REPO, 'configs', 'kd_resnet4b_resnet20_cifar10.py')
SMALL = [
    'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
    'val_dataloader.num_workers=0', 'val_dataloader.dataset.indices=64',
    'train_cfg.val_interval=4', 'default_hooks.checkpoint.interval=2',
    'default_hooks.logger.interval=1', 'val_cfg.num_samples=None'
]


def run_tool(args, folder, check=True):
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=folder)
    out = subprocess.run([sys.executable] + args,
                         cwd=REPO,
                         env=env,
                         capture_output=True,
                         text=True)
    if check and out.returncode != 0:
        raise AssertionError(f'{args} failed:\n{out.stdout[-3000:]}\n'
                             f'{out.stderr[-3000:]}')
    return out.stdout + out.stderr


def top1(log: str, prefix: str = '') -> float:
    found = re.findall(rf'\s{re.escape(prefix)}accuracy/top1: ([\d.]+)', log)
    assert found, log[-2000:]
    return float(found[-1])


@pytest.fixture(scope='module')
def trained(tmp_path_factory, cifar10_folder):
    work_dir = str(tmp_path_factory.mktemp('kd'))
    log = run_tool([
        'tools/train.py', KD_CONFIG, '--work-dir', work_dir, '--cfg-options',
        'train_cfg.max_iters=4'
    ] + SMALL, cifar10_folder)
    return work_dir, log


def test_train_validates_student_and_teacher_and_saves(trained):
    work_dir, log = trained
    assert 'Iter(train) [4/4]' in log
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    # robust validation of student and teacher; the teacher's clean
    # accuracy on the first 64 test images (all airplanes) is real
    assert 'robust/pgd20_linf_2/acc' in log
    teacher_clean = re.findall(r'teacher/robust/clean_acc: ([\d.]+)', log)
    assert teacher_clean and float(teacher_clean[-1]) > 50, log[-2000:]
    # MMRazor's teacher_ckpt, loaded strictly (a bare-backbone checkpoint)
    assert ('SingleTeacherDistill: model.teacher_ckpt: loaded '
            'checkpoints/abcrown_resnet4b_linf2.pth') in log
    assert 'key prefix \'backbone.\', all keys and shapes match' in log


def test_resume_continues_under_weights_only(trained, cifar10_folder):
    work_dir, _ = trained
    before = torch.load(osp.join(work_dir, 'iter_4.pth'), weights_only=True)
    log = run_tool([
        'tools/train.py', KD_CONFIG, '--work-dir', work_dir, '--resume',
        osp.join(work_dir, 'iter_4.pth'), '--cfg-options',
        'train_cfg.max_iters=6'
    ] + SMALL, cifar10_folder)
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [4/6]' not in log
    after = torch.load(osp.join(work_dir, 'iter_6.pth'), weights_only=True)
    assert after['meta']['iter'] == 6 and before['meta']['iter'] == 4
    # the optimizer state was restored, not rebuilt
    assert after['optimizer']['state']


def test_test_tool_reports_accuracy_of_trained_checkpoint(
        trained, cifar10_folder):
    """tools/test.py on iter_4.pth over the 64 validation images gives
    exactly the accuracies that validation printed at iteration 4 (same
    weights, same images; clean predictions are deterministic)."""
    work_dir, train_log = trained
    log = run_tool([
        'tools/test.py', KD_CONFIG,
        osp.join(work_dir, 'iter_4.pth'), '--work-dir', work_dir,
        '--attacks', 'pgd20_linf_2', '--cfg-options',
        'test_dataloader.num_workers=0', 'test_dataloader.dataset.indices=64',
        'test_cfg.num_samples=None', 'test_cfg.attacks.0.steps=1'
    ], cifar10_folder)
    assert top1(log) == top1(train_log)
    for key in ('robust/clean_acc', 'teacher/robust/clean_acc'):
        tested = re.findall(rf'\s{key}: ([\d.]+)', log)
        validated = re.findall(rf'\s{key}: ([\d.]+)', train_log)
        assert tested and validated and tested[-1] == validated[-1], key
    assert osp.isfile(osp.join(work_dir, 'robust_results.json'))


def test_exported_student_loads_into_plain_mmpretrain_model(
        trained, cifar10_folder):
    work_dir, _ = trained
    student = osp.join(work_dir, 'student.pth')
    run_tool([
        'tools/model_converters/export_student.py',
        osp.join(work_dir, 'iter_4.pth'), student
    ], cifar10_folder)
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(KD_CONFIG)
    model = MODELS.build(cfg.model.architecture)
    ckpt = torch.load(student, weights_only=True)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    algo = torch.load(osp.join(work_dir, 'iter_4.pth'), weights_only=True)
    torch.testing.assert_close(
        ckpt['state_dict']['backbone.linear.weight'],
        algo['state_dict']['architecture.backbone.linear.weight'])


def test_crafted_checkpoint_is_refused_on_resume_and_load_from(
        trained, cifar10_folder, tmp_path):
    work_dir, _ = trained
    marker = tmp_path / 'code_ran'
    crafted = tmp_path / 'crafted.pth'
    state = torch.load(osp.join(work_dir, 'iter_4.pth'), weights_only=True)
    from ..test_checkpoint.test_safe_load import CodeOnLoad
    state['meta']['payload'] = CodeOnLoad(str(marker))
    torch.save(state, crafted)
    for flags in (['--resume', str(crafted)],
                  ['--cfg-options', f'load_from={crafted}']):
        log = run_tool(['tools/train.py', KD_CONFIG, '--work-dir',
                        str(tmp_path)] + flags, cifar10_folder, check=False)
        assert 'UnsafeCheckpointError: refused to load checkpoint' in log
        assert not marker.exists()
    log = run_tool(['tools/test.py', KD_CONFIG, str(crafted), '--work-dir',
                    str(tmp_path)], cifar10_folder, check=False)
    assert 'UnsafeCheckpointError' in log and not marker.exists()


@pytest.mark.parametrize('config, ckpt, floor', [
    ('configs/resnet4b_cifar10.py', TEACHER_CKPT, 75.0),
    ('configs/resnet20_cifar10.py', RESNET20_CKPT, 80.0),
])
def test_vendored_models_reach_their_accuracy_on_the_test_split(
        config, ckpt, floor, cifar10_folder, tmp_path):
    log = run_tool([
        'tools/test.py', config, ckpt, '--work-dir',
        str(tmp_path), '--cfg-options', 'test_dataloader.num_workers=1'
    ], cifar10_folder)
    assert top1(log) >= floor

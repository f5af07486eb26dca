"""Multi-process DDP through tools/dist_train.sh (torchrun and MMEngine's
launcher), 2 CPU ranks on gloo."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
import torch.distributed as torch_dist

from ..conftest import REPO, free_port, load_tool

CONFIG = 'configs/kdiga_resnet4b_resnet20_cifar10.py'


def test_kdiga_trains_with_torchrun_two_processes_on_gloo(
        tmp_path, cifar10_folder):
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    # tools/dist_train.sh: torchrun with this environment's Python
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PORT'] = str(free_port())
    cmd = [
        'bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'train_dataloader.dataset.indices=64',
        'val_dataloader.dataset.indices=32', 'val_cfg.num_samples=None',
        'default_hooks.logger.interval=1'
    ]
    out = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert 'Iter(train) [2/2]' in log and 'distill.loss_iga' in log
    assert 'robust/pgd20_linf_2/acc' in log  # gathered from both ranks
    # the default runtime asks for nccl; without CUDA the launcher says so
    assert 'using the gloo backend instead of nccl' in log
    ckpt = osp.join(tmp_path, 'iter_2.pth')
    assert osp.isfile(ckpt)
    # the 2-rank validation counted each of the 32 images once: a
    # single-process test of the same weights on the same images gives
    # the same clean accuracies (deterministic, unlike PGD's random start).
    # The trained teacher's must match exactly; the student after two
    # iterations has near-tied logits, which another batch split or thread
    # count can flip: one image (100/32 points) of slack for its two.
    test = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir',
         str(tmp_path / 'single'), '--attacks', 'pgd20_linf_2',
         '--cfg-options', 'test_dataloader.num_workers=0',
         'test_dataloader.dataset.indices=32', 'test_cfg.num_samples=None',
         'test_cfg.attacks.0.steps=1'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    test_log = test.stdout + test.stderr
    assert test.returncode == 0, test_log[-3000:]
    for key, slack in (('teacher/robust/clean_acc', 0.0),
                       ('robust/clean_acc', 100 / 32),
                       ('accuracy/top1', 100 / 32)):
        validated = re.findall(rf'\s{key}: ([\d.]+)', log)
        tested = re.findall(rf'\s{key}: ([\d.]+)', test_log)
        assert validated and tested, key
        assert abs(float(validated[-1]) - float(tested[-1])) <= slack + 1e-4, (
            key, validated[-1], tested[-1])


class RunnerMakingAProcessGroup:
    """A runner whose run initialises a (one-rank) gloo group, as a
    ``--launcher pytorch`` runner does, and leaves it for the tool."""

    def __init__(self, work_dir):
        from mmengine.logging import MessageHub
        self.model = torch.nn.Linear(1, 1)
        self.message_hub = MessageHub.get_instance(str(work_dir))

    def _init_group(self):
        torch_dist.init_process_group(
            'gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0,
            world_size=1)

    def train(self):
        self._init_group()

    def test(self):
        self._init_group()
        return {}


@pytest.fixture
def no_group_left():
    yield
    if torch_dist.is_initialized():  # a failed test leaves no group behind
        torch_dist.destroy_process_group()


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_the_tools_destroy_the_process_group_before_they_exit(
        tool, tmp_path, monkeypatch, no_group_left):
    # a live gloo group at interpreter exit can abort the process
    module = load_tool(f'tools/{tool}.py', f'{tool}_tool')
    monkeypatch.setattr(module, 'build_runner',
                        lambda cfg: RunnerMakingAProcessGroup(tmp_path))
    argv = [CONFIG, '--work-dir', str(tmp_path)]
    if tool == 'test':
        monkeypatch.setattr(module, 'load_state_dict_checked',
                            lambda *args, **kwargs: '0' * 64)
        argv.insert(1, 'unused.pth')
    module.main(argv)
    assert not torch_dist.is_initialized()

"""Multi-process DDP through MMEngine's launcher: torchrun, 2 CPU ranks."""
import os
import os.path as osp
import subprocess
import sys

from ..conftest import REPO, free_port


def test_kdiga_trains_with_torchrun_two_processes_on_gloo(
        tmp_path, cifar10_folder):
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}', 'tools/train.py',
        'configs/kdiga_resnet4b_resnet20_cifar10.py', '--launcher',
        'pytorch', '--work-dir',
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
    assert osp.isfile(osp.join(tmp_path, 'iter_2.pth'))

"""The example configs: KDIGA added to MMPretrain's stock ResNet-18 CIFAR-10
config keeps the stock normalisation, takes CE weight 1 − α, and trains."""
import os
import os.path as osp
import re
import subprocess
import sys

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from ..conftest import REPO

STOCK = osp.join(REPO, 'configs', 'examples',
                 'kdiga_resnet4b_resnet18_cifar10.py')
# mmpretrain::_base_/datasets/cifar10_bs16.py's data_preprocessor
STOCK_MEAN = [125.307, 122.961, 113.8575]
STOCK_STD = [51.5865, 50.847, 51.255]


def test_stock_student_normalises_with_the_stock_configs_statistics(
        tmp_path):
    cfg = Config.fromfile(STOCK)
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)  # the Runner hands the model the top level
    model = runner.model
    student = model._normalizers['student']
    torch.testing.assert_close(student.mean.flatten(),
                               torch.tensor(STOCK_MEAN) / 255)
    torch.testing.assert_close(student.std.flatten(),
                               torch.tensor(STOCK_STD) / 255)
    teacher = model._normalizers['teacher']  # resnet4b's own
    torch.testing.assert_close(
        teacher.std.flatten(), torch.tensor([63.0105, 62.0925, 66.708]) / 255)
    assert model.data_preprocessor.std.flatten().tolist() == [255.0] * 3
    assert model.alpha == 0.5
    assert model.distiller.distill_losses['loss_kl'].loss_weight == 0.5
    assert model.student.head.loss_module.loss_weight == 1.0  # stock head
    # the step's task loss is (1 − α)·CE although the stock head says 1
    model.eval()
    x = torch.rand(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(label) for label in (3, 7)]
    losses = model.loss(x, samples)
    with torch.no_grad():
        ce = F.cross_entropy(model.pixel_classifier('student')(x),
                             torch.tensor([3, 7]))
    torch.testing.assert_close(losses['student.loss'], 0.5 * ce)


def test_stock_student_trains_from_the_unchanged_stock_config(
        tmp_path, cifar10_folder):
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    out = subprocess.run([
        sys.executable, 'tools/train.py', STOCK, '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1',
        'train_dataloader.dataset.indices=32',
        'train_dataloader.num_workers=0', 'val_dataloader.dataset.indices=16',
        'val_dataloader.num_workers=0', 'default_hooks.logger.interval=1'
    ], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'Epoch(train) [1][2/2]' in log and 'distill.loss_iga' in log
    assert re.search(r'model.teacher_ckpt: loaded .* all keys and shapes '
                     'match', log)
    assert 'model.architecture states no data_preprocessor; it ' \
        'normalises with model.data_preprocessor\'s mean=[125.307' in log

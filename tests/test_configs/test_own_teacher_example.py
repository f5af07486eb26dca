"""The own-teacher example: a third-party nn.Sequential checkpoint (numeric
keys) as the teacher of a KDIGA config, and its robust test alone through
tools/test.py --teacher, equal to a hand-written PGD on the same images."""
import json
import os
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kdiga_mmrazor.datasets import CLASSES
from kdiga_mmrazor.evaluation import select_subset

from ..conftest import REPO

CONFIG = osp.join('configs', 'examples', 'kdiga_smallcnn_resnet20_cifar10.py')
MEAN = torch.tensor([125.307, 122.961, 113.8575]).view(3, 1, 1) / 255
STD = torch.tensor([63.0105, 62.0925, 66.708]).view(3, 1, 1) / 255


def _images(root, split, indices):
    """RGB pixels in [0, 1] of CustomDataset's samples (class folders and
    files in sorted order, decoded as LoadImageFromFile does)."""
    files = [osp.join(root, split, c, f) for c in CLASSES
             for f in sorted(os.listdir(osp.join(root, split, c)))]
    x = np.stack([mmcv.imread(files[i])[..., ::-1] for i in indices])
    labels = [CLASSES.index(osp.basename(osp.dirname(files[i])))
              for i in indices]
    return (torch.from_numpy(x.copy()).permute(0, 3, 1, 2).float() / 255,
            torch.tensor(labels))


@pytest.fixture(scope='module')
def third_party_checkpoint(tmp_path_factory, cifar10_folder):
    """A briefly trained SmallCNN saved as the third party would: a bare
    ``nn.Sequential`` state dict."""
    sys.path.insert(0, REPO)
    from examples.own_teacher.small_cnn import small_cnn_layers
    torch.manual_seed(0)
    net = torch.nn.Sequential(*small_cnn_layers())
    x, y = _images(cifar10_folder, 'train',
                   [c * 5000 + i for c in range(10) for i in range(200)])
    optim = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(3):
        for batch in torch.randperm(len(y)).split(64):
            optim.zero_grad()
            F.cross_entropy(net((x[batch] - MEAN) / STD), y[batch]).backward()
            optim.step()
    path = tmp_path_factory.mktemp('third_party') / 'small_cnn.pth'
    torch.save(net.state_dict(), path)
    assert list(net.state_dict())[:2] == ['0.weight', '0.bias']
    return str(path), net.eval()


def _run(args, cifar10_folder):
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    out = subprocess.run([sys.executable] + args, cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    return log


def test_example_config_distils_from_the_third_party_teacher(
        third_party_checkpoint, cifar10_folder, tmp_path):
    ckpt, _ = third_party_checkpoint
    log = _run([
        'tools/train.py', CONFIG, '--work-dir', str(tmp_path),
        '--cfg-options', f'model.teacher_ckpt={ckpt}',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'default_hooks.logger.interval=1'
    ], cifar10_folder)
    assert "key prefix 'backbone.', all keys and shapes match" in log
    assert 'Iter(train) [2/2]' in log and 'distill.loss_iga' in log


def test_teacher_alone_equals_a_hand_written_pgd(third_party_checkpoint,
                                                 cifar10_folder, tmp_path):
    ckpt, net = third_party_checkpoint
    _run([
        'tools/test.py', CONFIG, ckpt, '--teacher', '--num-samples', '50',
        '--attacks', 'pgd20_linf_2', '--work-dir', str(tmp_path),
        '--cfg-options', 'test_dataloader.num_workers=0',
        'test_cfg.attacks.0.steps=5', 'test_cfg.attacks.0.random_start=False'
    ], cifar10_folder)
    with open(osp.join(tmp_path, 'robust_results.json')) as f:
        metrics = json.load(f)['metrics']
    # the same 50 images (5 per class, seed 0), PGD-5 from x by hand
    labels = np.repeat(np.arange(10), 1000)
    x, y = _images(cifar10_folder, 'test',
                   select_subset(10000, 50, labels, 0, 'test'))

    def logits(images):
        return net((images - MEAN) / STD)

    eps, steps = 2 / 255, 5
    alpha = 2.5 * eps / steps
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (g, ) = torch.autograd.grad(
            F.cross_entropy(logits(x_adv), y, reduction='sum'), x_adv)
        x_adv = x_adv.detach() + alpha * g.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
    with torch.no_grad():
        clean = logits(x).argmax(1) == y
        robust = clean & (logits(x_adv).argmax(1) == y)
    assert 0 < robust.sum() < clean.sum()  # a non-trivial comparison
    assert metrics['robust/clean_acc'] == pytest.approx(
        100 * clean.float().mean().item())
    assert metrics['robust/pgd5_linf_2/acc'] == pytest.approx(
        100 * robust.float().mean().item())

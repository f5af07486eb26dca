"""The ImageNet headline config builds and trains on generated data.

Without ImageNet: a few images in ImageNet's folder format (``train/``,
``val/``, ``meta/{train,val}.txt``); the test overrides only paths, sizes
and lengths, never the models or the method, except the initialisation of
the student's head: no checkpoint loads here, and MMPretrain initialises
``VisionTransformerClsHead`` to zero, so every logit ties and which class
wins the tie flips with rounding between the two accuracy paths compared
below.
"""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ..conftest import REPO

CONFIG = 'configs/kdiga_resnet50_vit_b_imagenet.py'


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagenet')
    rng = np.random.default_rng(0)
    for split, n in (('train', 2), ('val', 2)):
        os.makedirs(root / 'meta', exist_ok=True)
        lines = []
        for i in range(n):
            label = [3, 999][i % 2]
            folder = root / split / f'n{label:08d}'
            folder.mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 256, (200 + 20 * i, 260, 3), np.uint8)
            Image.fromarray(pixels).save(folder / f'{i}.JPEG')
            lines.append(f'n{label:08d}/{i}.JPEG {label}')
        (root / 'meta' / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    return str(root)


def test_headline_config_trains_a_few_iterations(tiny_imagenet, tmp_path):
    options = [
        'model.teacher_ckpt=None', 'model.student_ckpt=None',
        f'train_dataloader.dataset.data_root={tiny_imagenet}',
        f'val_dataloader.dataset.data_root={tiny_imagenet}',
        'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1',
        'val_cfg.num_samples=None', 'val_cfg.attacks.0.steps=2',
        'default_hooks.checkpoint.save_best=robust/pgd2_linf_4/acc',
        'model.architecture.head.init_cfg.type=Normal',
        'model.architecture.head.init_cfg.layer=Linear',
        'model.architecture.head.init_cfg.std=0.02'
    ]
    out = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir',
         str(tmp_path), '--cfg-options'] + options,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    # two epochs of one batch: warm-up epoch, then the cosine epoch
    assert 'Epoch(train) [2][1/1]' in log
    assert 'distill.loss_iga' in log and 'distill.loss_kl' in log
    assert 'robust/pgd2_linf_4/acc' in log  # PGD-2: a short attack
    assert 'teacher/robust/pgd2_linf_4/acc' in log
    assert osp.isfile(osp.join(tmp_path, 'epoch_2.pth'))
    scalars = _scalars(tmp_path)
    train = [r for r in scalars if 'distill.loss_iga' in r]
    assert [r['iter'] for r in train] == [1, 2]
    # warm-up starts at lr 5e-5 × start_factor 1e-3 (AdamW, no auto-scale)
    assert train[0]['lr'] == pytest.approx(5e-5 * 1e-3, rel=1e-6)
    for r in train:  # the objective is the sum of its three terms
        assert r['loss'] == pytest.approx(
            r['student.loss'] + r['distill.loss_kl'] + r['distill.loss_iga'],
            rel=1e-5)
    val = [r for r in scalars if 'robust/pgd2_linf_4/acc' in r]
    assert len(val) == 2
    for r in val:  # two val images: accuracies are 0, 50 or 100 percent
        for key in ('robust/clean_acc', 'robust/pgd2_linf_4/acc',
                    'teacher/robust/clean_acc'):
            assert r[key] in (0.0, 50.0, 100.0), (key, r[key])
        assert r['robust/pgd2_linf_4/acc'] <= r['robust/clean_acc']
        assert r['accuracy/top1'] == r['robust/clean_acc']


def _scalars(work_dir):
    """The records MMEngine's LocalVisBackend wrote (one JSON per line)."""
    import glob
    import json
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_headline_config_names_its_checkpoints():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    assert cfg.model.type == 'KDIGADistill'
    assert cfg.model.teacher_ckpt.endswith('.pth')
    assert cfg.model.student_ckpt.endswith('.pth')
    assert cfg.model.teacher.backbone.depth == 50
    assert cfg.model.architecture.backbone.type == 'VisionTransformer'
    assert cfg.train_dataloader.batch_size * 8 == 256

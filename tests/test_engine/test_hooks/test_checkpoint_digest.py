"""CheckpointDigestHook on a real Runner: every saved checkpoint records
the digest of its weights; an edited or bit-flipped checkpoint is refused
at ``load_checkpoint`` and at ``resume``; a run killed mid-training and
resumed with ``tools/train.py --resume`` ends with exactly the weights of
an uninterrupted run."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from mmengine.hooks import EMAHook
from mmengine.registry import DATASETS, HOOKS
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from torch.utils.data import Dataset

from kdiga_mmrazor.checkpoint import (
    CheckpointDigestError,
    CorruptCheckpointError,
    state_dict_digest,
)
from kdiga_mmrazor.engine.hooks import CheckpointDigestHook

from ...conftest import REPO, toy_classifier
from ...test_checkpoint.conftest import flip_in_entry


@DATASETS.register_module(force=True)
class DigestToyDataset(Dataset):
    """12 random 3×8×8 images (seeded), labels ``i % 3``."""

    def __init__(self, n: int = 12) -> None:
        gen = torch.Generator().manual_seed(0)
        self.images = torch.randint(0, 256, (n, 3, 8, 8), generator=gen,
                                    dtype=torch.uint8)
        self.metainfo = dict(classes=('a', 'b', 'c'))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=self.images[i],
                    data_samples=DataSample().set_gt_label(i % 3))


def _cfg(work_dir, max_iters=4, custom_hooks=None, **extra) -> dict:
    cfg = dict(
        work_dir=str(work_dir),
        default_scope='mmpretrain',
        model=toy_classifier(mean=[127.5] * 3, std=[127.5] * 3),
        train_dataloader=dict(
            dataset=dict(type='DigestToyDataset'),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4, num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5,
                                          momentum=0.9)),
        default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', by_epoch=False, interval=2)),
        custom_hooks=custom_hooks if custom_hooks is not None else [
            dict(type='CheckpointDigestHook')],
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0),
        # unique: MMEngine hands back a visualizer of the same name
        experiment_name='digest_' + '_'.join(str(work_dir).split(os.sep)[-2:]),
        log_level='WARNING')
    cfg.update(extra)
    return cfg


@pytest.fixture
def trained(tmp_path):
    """A 4-iteration run with checkpoints at 2 and 4 (lr 0.5: the weights
    change)."""
    Runner.from_cfg(_cfg(tmp_path / 'run')).train()
    return tmp_path / 'run'


def test_each_saved_checkpoint_records_the_digest_of_its_weights(trained):
    digests = []
    for it in (2, 4):
        ckpt = torch.load(trained / f'iter_{it}.pth', weights_only=True)
        assert ckpt['meta']['state_dict_digest'] == state_dict_digest(
            ckpt['state_dict'])
        digests.append(ckpt['meta']['state_dict_digest'])
    assert digests[0] != digests[1]  # training moved the weights


def test_an_edited_weight_is_refused_at_load_checkpoint_and_resume(
        trained, tmp_path):
    path = str(trained / 'iter_2.pth')
    ckpt = torch.load(path, weights_only=True)
    recorded = ckpt['meta']['state_dict_digest']
    key = 'backbone.fc1.weight'
    ckpt['state_dict'][key][0, 0] += 1.0
    torch.save(ckpt, path)
    edited = state_dict_digest(ckpt['state_dict'])
    expected = (f'checkpoint {path!r} does not hold the weights it was '
                f'saved with: its state_dict digest is {edited}, '
                f'meta.state_dict_digest recorded {recorded}')
    runner = Runner.from_cfg(_cfg(tmp_path / 'load'))
    with pytest.raises(CheckpointDigestError) as info:
        runner.load_checkpoint(path)
    assert str(info.value).startswith(expected)
    resumed = Runner.from_cfg(
        _cfg(tmp_path / 'resume', max_iters=6, resume=True, load_from=path))
    with pytest.raises(CheckpointDigestError) as info:
        resumed.train()
    assert str(info.value).startswith(expected)
    assert resumed.iter == 0  # refused before a step was taken


def test_a_bit_flipped_tensor_is_refused_at_resume_naming_the_file(
        trained, tmp_path):
    path = str(trained / 'iter_4.pth')
    entry = flip_in_entry(path, 'data/0', at=2)
    runner = Runner.from_cfg(
        _cfg(tmp_path / 'resume', max_iters=6, resume=True, load_from=path))
    with pytest.raises(CorruptCheckpointError) as info:
        runner.train()
    assert str(info.value).startswith(
        f'checkpoint {path!r} is damaged: zip entry {entry!r} (the raw '
        'bytes of a tensor storage) fails its check (BadZipFile: Bad '
        'CRC-32')


def test_the_digest_is_taken_after_ema_swaps_its_weights_in(tmp_path):
    # listed first, but its lowest priority makes it run after EMAHook
    Runner.from_cfg(_cfg(tmp_path / 'run', custom_hooks=[
        dict(type='CheckpointDigestHook'),
        dict(type='EMAHook', momentum=0.5)])).train()
    path = str(tmp_path / 'run' / 'iter_4.pth')
    ckpt = torch.load(path, weights_only=True)
    assert ckpt['meta']['state_dict_digest'] == state_dict_digest(
        ckpt['state_dict'])
    assert 'ema_state_dict' in ckpt
    assert CheckpointDigestHook.priority == 'LOWEST'
    assert EMAHook.priority == 'NORMAL'


def test_a_checkpoint_without_state_dict_is_refused_by_name():
    with pytest.raises(KeyError, match=r"no 'state_dict' mapping \(keys: "
                       r"\['meta'\]\)"):
        CheckpointDigestHook().before_save_checkpoint(None, {'meta': {}})


@pytest.mark.parametrize('scope', ['mmengine', 'mmpretrain', 'mmrazor'])
def test_the_hook_builds_from_any_default_scope(scope):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(scope):
        hook = HOOKS.build(dict(type='CheckpointDigestHook'))
    assert isinstance(hook, CheckpointDigestHook)


# -- killed and resumed through tools/train.py ------------------------------

HELPERS = '''
"""A tiny conv net, and a hook that slows training down so that a kill
lands mid-run."""
import time

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModule
from mmengine.registry import HOOKS
from mmpretrain.registry import MODELS


@MODELS.register_module()
class KillResumeNet(BaseModule):

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)

    def forward(self, x):
        return (torch.relu(self.bn(self.conv(x))), )


@HOOKS.register_module()
class SlowTrainHook(Hook):

    def __init__(self, seconds):
        self.seconds = seconds

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        time.sleep(self.seconds)
'''

CONFIG = '''
custom_imports = dict(imports=['kdiga_mmrazor', 'kill_resume_helpers'],
                      allow_failed_imports=False)
default_scope = 'mmpretrain'
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=2,
                           mean=[127.5] * 3, std=[127.5] * 3),
    backbone=dict(type='KillResumeNet'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=4,
              loss=dict(type='CrossEntropyLoss')))
train_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root={root!r},
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
train_cfg = dict(by_epoch=False, max_iters={max_iters})
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False,
                        milestones=[5], gamma=0.5)]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3,
                    max_keep_ckpts=-1))
custom_hooks = [dict(type='CheckpointDigestHook'),
                dict(type='SlowTrainHook', seconds={sleep})]
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
'''
MAX_ITERS = 12


@pytest.fixture(scope='module')
def kill_setup(tmp_path_factory):
    from PIL import Image
    base = tmp_path_factory.mktemp('kill_resume')
    rng = np.random.default_rng(0)
    for k, cls in enumerate(('a', 'b')):
        os.makedirs(base / 'images' / cls)
        for i in range(8):
            pixels = rng.integers(0, 128, (8, 8, 3)) + 100 * k
            Image.fromarray(pixels.astype(np.uint8)).save(
                base / 'images' / cls / f'{i}.png')
    (base / 'kill_resume_helpers.py').write_text(textwrap.dedent(HELPERS))
    config = base / 'tiny.py'
    config.write_text(CONFIG.format(root=str(base / 'images'),
                                    max_iters=MAX_ITERS, sleep=0.25))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(base), os.environ.get('PYTHONPATH', '')]),
        OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('KDIGA_CIFAR10_FOLDER', None)
    reference = base / 'reference'
    _train(config, reference, env).check_returncode()
    return config, env, reference


def _train(config, work_dir, env, *flags, wait=True):
    cmd = [sys.executable, 'tools/train.py', str(config), '--work-dir',
           str(work_dir), *flags]
    if not wait:
        return subprocess.Popen(cmd, cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def _last_checkpoint(work_dir) -> str:
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            return f.read().strip()
    except OSError:
        return ''


def _tensors(ckpt: dict) -> dict:
    out = {f'state_dict.{k}': v for k, v in ckpt['state_dict'].items()}
    for pid, state in ckpt['optimizer']['state'].items():
        out.update({f'optimizer.{pid}.{k}': v for k, v in state.items()})
    return out


@pytest.mark.parametrize('sig, killed_after', [(signal.SIGKILL, 3),
                                               (signal.SIGTERM, 6)])
def test_a_killed_run_resumes_to_exactly_the_uninterrupted_weights(
        kill_setup, tmp_path, sig, killed_after):
    config, env, reference = kill_setup
    work_dir = tmp_path / 'killed'
    proc = _train(config, work_dir, env, wait=False)
    wanted = f'iter_{killed_after}.pth'
    deadline = time.monotonic() + 120
    while (not _last_checkpoint(work_dir).endswith(wanted)
           and proc.poll() is None and time.monotonic() < deadline):
        time.sleep(0.01)
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == -sig  # killed, not finished
    assert not osp.exists(work_dir / f'iter_{MAX_ITERS}.pth')

    out = _train(config, work_dir, env, '--resume')
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    resumed_at = re.findall(r'resumed epoch: 0, iter: (\d+)', log)
    assert resumed_at and int(resumed_at[0]) >= killed_after, log[-3000:]

    final = f'iter_{MAX_ITERS}.pth'
    expected = _tensors(torch.load(reference / final, weights_only=True))
    got = _tensors(torch.load(work_dir / final, weights_only=True))
    assert sorted(got) == sorted(expected)
    unequal = [k for k in expected if not torch.equal(got[k], expected[k])]
    assert unequal == []
    assert len(expected) > 10

"""Randomized smoothing inside the robust evaluation: RobustTestLoop and
RobustEvalHook on a real Runner (student and teacher keys, the ETA lines,
the record and tables), independence of the dataloader batches, the
sanity checks, the config piece with the robust-test options and
tools/test.py.

The toy data (see ``conftest.py``): 12 constant 3×8×8 images at levels
(0.2, 0.5, 0.8), label ``i % 3``, image 11 mislabelled 0. The level model
classifies the mean intensity, whose noise has std σ/√192 = 0.018 at
σ = 0.25 against a half gap of 0.15: all ``n`` draws agree, so each image
gets the radius cap σΦ⁻¹(α^{1/n}) = 0.456 for n = 200, α = 0.001.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from scipy.stats import norm
from torch import nn

from kdiga_mmrazor.evaluation import (
    RobustEvaluator,
    apply_robust_options,
    write_results,
)

from ..conftest import REPO, RESNET20_CKPT, free_port
from .conftest import LEVELS, LevelBackbone, classifier, runner_cfg

NAME = 'smooth_l2_sigma0.25'
SMOOTH = dict(type='RandomizedSmoothing', sigma=0.25, n0=20, n=200,
              radii=(0.0, 0.25, 0.5), log_interval=6)
CAP = 0.25 * norm.ppf(0.001**(1 / 200))
MISLABELLED = dict(type='RobustToyDataset', mislabel=[11])
PIECE = osp.join(REPO, 'configs', '_base_', 'robust_eval',
                 'cifar10_smoothing_l2_025.py')


def _distill(student, teacher):
    return dict(
        _scope_='mmrazor',
        type='SingleTeacherDistill',
        data_preprocessor=dict(
            type='mmpretrain.ClsDataPreprocessor', mean=[0, 0, 0],
            std=[255, 255, 255]),
        architecture=classifier(student),
        teacher=classifier(teacher),
        distiller=dict(type='ConfigurableDistiller'))


def test_test_loop_certifies_student_and_teacher(make_runner, mmengine_log,
                                                 tmp_path):
    assert 0.25 < CAP < 0.5
    # the teacher's levels are reversed: right on level 0.5 (4 images)
    # and on the mislabelled image 11 only
    runner = make_runner(
        model=_distill(dict(type='LevelBackbone'),
                       dict(type='LevelBackbone', levels=LEVELS[::-1])),
        dataset=MISLABELLED,
        test_cfg=dict(type='RobustTestLoop', evaluate_teacher=True,
                      certification=[SMOOTH]))
    lines = mmengine_log.view(contains=f'{NAME}: certified')
    metrics = runner.test()
    for prefix, right in (('robust', 11), ('teacher/robust', 5)):
        key = f'{prefix}/{NAME}'
        assert metrics[f'{key}/certified_acc_r0'] == pytest.approx(
            100 * right / 12)
        assert metrics[f'{key}/certified_acc_r0.25'] == pytest.approx(
            100 * right / 12)
        assert metrics[f'{key}/certified_acc_r0.5'] == 0.0  # above the cap
        assert metrics[f'{key}/smoothed_acc'] == pytest.approx(
            100 * right / 12)
        assert metrics[f'{key}/abstain'] == 0.0
    assert metrics['robust/clean_acc'] == pytest.approx(100 * 11 / 12)
    # 12 images × 2 members, a line every 6 with the seconds per image and
    # the ETA of the whole evaluation
    assert [line.split(',')[0] for line in lines] == [
        f'{NAME}: certified {m}/24 images' for m in (6, 12, 18, 24)]
    assert all('s/image, ETA ' in line for line in lines)
    assert lines[-1].endswith('ETA 0:00:00')

    record = runner.test_loop.result_record('kd')
    settings, = record['certification']
    assert settings == dict(
        type='RandomizedSmoothing', name=NAME, norm='l2', sigma=0.25, n0=20,
        n=200, alpha=0.001, batch_size=1000, seed=0, radii=[0.0, 0.25, 0.5],
        max_radius=pytest.approx(CAP), num_images=12)
    assert record['attacks'] == [] and record['sanity_warnings'] == []
    student, teacher = record['rows']
    assert teacher['model'] == 'kd (teacher)'
    assert teacher[f'{NAME}/certified_acc_r0.25'] == pytest.approx(
        100 * 5 / 12)
    paths = write_results(json.loads(json.dumps(record)), str(tmp_path))
    with open(paths['csv']) as f:
        assert f.readline().strip().split(',') == [
            'model', 'member', 'clean_acc', f'{NAME}/certified_acc_r0',
            f'{NAME}/certified_acc_r0.25', f'{NAME}/certified_acc_r0.5',
            f'{NAME}/smoothed_acc', f'{NAME}/abstain']
    with open(paths['md']) as f:
        table = f.read().splitlines()
    assert f'| {NAME}/certified_acc_r0.25 |' in table[0]
    assert table[3].startswith('| kd (teacher) | 41.67 | 41.67 | 41.67 |')


class AffineLevel(nn.Module):
    """Two classes by the mean intensity: logits ``[0, 5 (u − 0.5)]``
    with weight noise of scale 0.05 per pixel, so that the certificates
    of the toy images differ (some abstain, radii spread)."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.w = 1 / 192 + 0.05 * torch.randn(192, generator=gen)

    def forward(self, x):
        z = 5 * (x.flatten(1) @ self.w - 0.5)
        return torch.stack([torch.zeros_like(z), z], 1)


def _certify(batches, seed=0):
    """Per-sample certificates of the toy images, fed in ``batches`` of
    dataset indices, sorted by index."""
    levels = torch.tensor([0.3, 0.45, 0.5, 0.55, 0.6, 0.7, 0.48, 0.52])
    evaluator = RobustEvaluator(
        sanity_checks=False,
        certification=dict(SMOOTH, sigma=0.5, radii=(0.0, 0.1), seed=seed))
    evaluator.start(dict(student=AffineLevel()))
    for idx in batches:
        x = levels[idx].view(-1, 1, 1, 1).expand(-1, 3, 8, 8)
        evaluator.process(x, torch.ones(len(idx), dtype=torch.long), idx)
    metric = evaluator.certification.metrics['student'][
        'smooth_l2_sigma0.5']
    return sorted(metric.results, key=lambda r: r['sample_idx'])


def test_certificates_do_not_depend_on_batches_or_order():
    whole = _certify([list(range(8))])
    assert whole == _certify([[5, 2, 7], [0], [6, 1, 4, 3]])
    predictions = [r['prediction'] for r in whole]
    assert -1 in predictions and 0 in predictions and 1 in predictions
    assert len({round(r['radius'], 6) for r in whole}) >= 4
    assert [r['prediction'] for r in _certify([list(range(8))], seed=1)] \
        != predictions or [r['radius'] for r in _certify(
            [list(range(8))], seed=1)] != [r['radius'] for r in whole]


def test_loop_metrics_are_the_same_for_any_dataloader_batch_size(
        make_runner):
    cfg = dict(type='RobustTestLoop', run_evaluator=False,
               certification=[dict(SMOOTH, sigma=3.0, radii=(0.0, 1.0))])
    runs = [
        make_runner(dataset=MISLABELLED, test_cfg=cfg, batch_size=b).test()
        for b in (4, 5)
    ]
    assert runs[0] == runs[1]
    # at sigma = 3 level 0.5 abstains and the radii of levels 0.2 and 0.8
    # differ: the certificates are far from trivial
    key = 'robust/smooth_l2_sigma3'
    assert 0 < runs[0][f'{key}/certified_acc_r1'] < \
        runs[0][f'{key}/smoothed_acc'] < 100 - runs[0][f'{key}/abstain']


class LevelPixels(nn.Module):
    """The pixel-space level classifier (logits of LevelBackbone)."""

    def __init__(self):
        super().__init__()
        self.backbone = LevelBackbone()

    def forward(self, x):
        return self.backbone(x)[0]


def test_sanity_checks_look_at_attacks_only():
    """A large-ε attack breaks every image (the check passes) while the
    smoothed classifier is certified on all of them: its keys are not
    attack accuracies, nothing warns."""
    # (the input gradient at level 0.5 is exactly 0 by symmetry: the
    # first-batch gradient check is not what this is about)
    evaluator = RobustEvaluator(
        [dict(type='ShiftAttack', eps=0.35)], certification=SMOOTH,
        sanity_checks=dict(zero_grad_fraction=1.0))
    evaluator.start(dict(student=LevelPixels()))
    levels = torch.tensor(LEVELS[:2]).repeat(3)  # 0.2 -> 0.55, 0.5 -> 0.85
    x = levels.view(-1, 1, 1, 1).expand(-1, 3, 8, 8)
    evaluator.process(x, torch.tensor([0, 1] * 3), list(range(6)))
    metrics = evaluator.compute(size=6)
    assert metrics['robust/shift_linf_0.35/acc'] == 0.0
    assert metrics[f'robust/{NAME}/certified_acc_r0.25'] == 100.0
    assert evaluator.sanity.warned == set()
    with pytest.raises(ValueError, match='attack names too'):
        RobustEvaluator([dict(type='ShiftAttack', eps=1.0)],
                        certification=dict(SMOOTH, name='shift_linf_1'))


def test_hook_certifies_after_a_test_without_attacks(tmp_path):
    from kdiga_mmrazor.evaluation import RobustEvalHook
    with pytest.raises(ValueError, match='attacks is empty.*certification'):
        RobustEvalHook(attacks=[])
    cfg = runner_cfg(tmp_path, dataset=MISLABELLED,
                     test_cfg=dict(type='TestLoop'))
    cfg['custom_hooks'] = [
        dict(type='RobustEvalHook', certification=SMOOTH, num_samples=6,
             on_test=True),
        dict(type='RobustResultsHook', model_name='toy')
    ]
    metrics = Runner.from_cfg(cfg).test()
    assert metrics[f'robust/{NAME}/smoothed_acc'] > 0
    with open(osp.join(str(tmp_path), 'robust_results.json')) as f:
        record = json.load(f)
    assert record['certification'][0]['num_images'] == 6
    assert f'{NAME}/certified_acc_r0.25' in record['rows'][0]


def test_config_piece_with_the_robust_test_options():
    piece = Config.fromfile(PIECE).robust_eval
    assert piece.attacks == []
    smoothing, = piece.certification
    assert (smoothing.sigma, smoothing.n0, smoothing.n, smoothing.alpha,
            smoothing.batch_size) == (0.25, 100, 100000, 0.001, 1000)
    assert (piece.num_samples, piece.balanced) == (500, True)
    cfg = Config(dict(test_cfg=dict(type='TestLoop'),
                      default_hooks=dict(logger=dict(type='LoggerHook',
                                                     interval=50))))
    cfg = apply_robust_options(cfg, robust=PIECE, num_samples=100)
    cfg.merge_from_dict({'test_cfg.certification.0.n': 1000})
    assert cfg.test_cfg.type == 'RobustTestLoop'
    assert cfg.test_cfg.num_samples == 100
    assert cfg.test_cfg.certification[0].n == 1000
    assert cfg.test_cfg.certification[0].n0 == 100
    with pytest.raises(ValueError, match=r"\['pgd20_linf_2'\] not among"):
        apply_robust_options(Config(dict(test_cfg=dict(type='TestLoop'))),
                             robust=PIECE, attacks=['pgd20_linf_2'])


def test_tools_test_certifies_a_real_resnet20(tmp_path, cifar10_folder):
    work_dir = str(tmp_path / 'r20')
    env = dict(os.environ, KDIGA_CIFAR10_FOLDER=cifar10_folder)
    proc = subprocess.run([
        sys.executable, 'tools/test.py', 'configs/resnet20_cifar10.py',
        RESNET20_CKPT, '--robust', PIECE, '--num-samples', '10',
        '--model-name', 'ResNet-20', '--work-dir', work_dir,
        '--cfg-options', 'test_dataloader.num_workers=0',
        'test_cfg.certification.0.n=100', 'test_cfg.certification.0.n0=10',
        'test_cfg.certification.0.batch_size=110'
    ], cwd=REPO, env=env, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert f'{NAME}: certified 10/10 images' in log
    # n = 100: the cap is 0.25 Φ⁻¹(0.001^(1/100)) = 0.375
    assert 'radii 0.5, 0.75 exceed 0.3751' in log
    with open(osp.join(work_dir, 'robust_results.json')) as f:
        record = json.load(f)
    settings, = record['certification']
    assert (settings['n'], settings['n0'], settings['num_images']) == (100,
                                                                      10, 10)
    row, = record['rows']
    assert row[f'{NAME}/certified_acc_r0.75'] == 0.0
    assert 0 <= row[f'{NAME}/certified_acc_r0'] <= 100
    assert f'| model | clean | {NAME}/certified_acc_r0 |' in log


def _run_ddp(tmp_path, world_size):
    out = tmp_path / f'ws{world_size}'
    proc = subprocess.run([
        sys.executable,
        osp.join(osp.dirname(osp.abspath(__file__)), 'test_certification',
                 'ddp_certification.py'),
        str(out), str(world_size), str(free_port())
    ], env=dict(os.environ, OMP_NUM_THREADS='1'), capture_output=True,
        text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [json.loads((out / f'rank{r}.json').read_text())
            for r in range(world_size)]


def test_ddp_certifies_each_sample_once_as_one_process(tmp_path):
    # 13 images, batch 2, 2 ranks: rank 1 gets a padded repeat of image 0
    ranks = _run_ddp(tmp_path, 2)
    single, = _run_ddp(tmp_path, 1)
    key = 'robust/smooth_l2_sigma3'
    assert 0 < single['metrics'][f'{key}/certified_acc_r1'] < \
        single['metrics'][f'{key}/smoothed_acc']
    for rank in ranks:
        assert rank['metrics'] == single['metrics']
        assert rank['certification'][0]['num_images'] == 13
    # each rank's ETA counts its own 7 images (padding included)
    assert [r['lines'][-1].split(',')[0] for r in ranks] == [
        'smooth_l2_sigma3: certified 7/7 images on this rank'] * 2
    assert single['lines'][-1].startswith(
        'smooth_l2_sigma3: certified 13/13 images, ')

"""RobustValLoop on a real Runner: metric names and values, the ValLoop hook
contract, subsets, a distillation teacher, diagnostics, config errors.

The toy data (see ``conftest.py``): 12 constant images, image ``i`` at
level ``(0.2, 0.5, 0.8)[i % 3]`` and label ``i % 3``; index 11 (level 0.8)
is mislabelled 0. ``ShiftAttack(eps=0.2)`` adds 0.2 to every pixel, which
moves levels 0.2 and 0.5 to the next class and leaves level 0.8 (clipped
to 1) in class 2.
"""
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from kdiga_mmrazor.evaluation import select_subset

from ..conftest import LEVELS, classifier, level_pixels

MISLABELLED = dict(type='RobustToyDataset', mislabel=[11])
SHIFT = dict(type='ShiftAttack', eps=0.2)


def _labels(n=12, mislabel=(11, )):
    return np.array([(i % 3 + 1) % 3 if i in mislabel else i % 3
                     for i in range(n)])


def _expected(indices, mislabel=(11, )):
    """Clean and shift-attack accuracy (percent) by hand."""
    clean = [i not in mislabel for i in indices]
    shifted = [i % 3 == 2 and i not in mislabel for i in indices]
    return 100 * sum(clean) / len(indices), 100 * sum(shifted) / len(indices)


class RecordingHook(Hook):
    """Records the val/test hook calls and the metrics they receive."""

    def __init__(self):
        self.calls, self.metrics = [], None


def _recorder(name):

    def call(self, runner, *args, **kwargs):
        self.calls.append(name)
        if 'metrics' in kwargs:
            self.metrics = kwargs['metrics']

    return call


for _stage in ('val', 'test'):
    for _name in (f'before_{_stage}', f'before_{_stage}_epoch',
                  f'before_{_stage}_iter', f'after_{_stage}_iter',
                  f'after_{_stage}_epoch', f'after_{_stage}'):
        setattr(RecordingHook, _name, _recorder(_name))


def test_metric_keys_and_values_hand_computed(make_runner):
    runner = make_runner(
        dataset=MISLABELLED,
        test_cfg=dict(type='RobustTestLoop', attacks=[SHIFT]))
    metrics = runner.test()
    clean, shifted = _expected(range(12))
    assert set(metrics) == {
        'accuracy/top1', 'robust/clean_acc', 'robust/shift_linf_0.2/acc'
    }
    assert metrics['robust/clean_acc'] == pytest.approx(clean)  # 11/12
    assert metrics['robust/shift_linf_0.2/acc'] == pytest.approx(shifted)
    # the dataloader's evaluator still runs (same clean predictions)
    assert metrics['accuracy/top1'] == pytest.approx(clean, abs=1e-4)


def test_val_loop_follows_the_valloop_hook_contract(make_runner):
    runner = make_runner(
        dataset=MISLABELLED,
        val_cfg=dict(type='RobustValLoop', attacks=[SHIFT]))
    hook = RecordingHook()
    runner.register_hook(hook)
    returned = runner.val()
    # 12 samples in batches of 4: three iterations
    iters = ['before_val_iter', 'after_val_iter'] * 3
    assert hook.calls == ['before_val', 'before_val_epoch'] + iters + [
        'after_val_epoch', 'after_val'
    ]
    assert hook.metrics == returned
    assert returned['robust/shift_linf_0.2/acc'] == pytest.approx(25.0)


def test_parameters_and_grad_mode_are_left_as_found(make_runner):
    runner = make_runner(
        test_cfg=dict(
            type='RobustTestLoop',
            attacks=[dict(type='PGDAttack', eps=8 / 255, steps=3)],
            diagnostics=dict(eps=8 / 255, steps=2)))
    runner.test()
    for name, param in runner.model.named_parameters():
        assert param.requires_grad, name
        assert param.grad is None, name
    assert torch.is_grad_enabled()


def test_subset_is_seeded_fixed_and_class_balanced(make_runner):
    cfg = dict(
        type='RobustTestLoop',
        attacks=[SHIFT],
        num_samples=6,
        balanced=True,
        seed=1)
    runner = make_runner(dataset=MISLABELLED, test_cfg=cfg)
    metrics = runner.test()
    indices = runner.test_loop.dataloader.dataset.indices
    labels = _labels()
    assert indices == select_subset(12, 6, labels, seed=1)
    assert np.bincount(labels[indices]).tolist() == [2, 2, 2]
    clean, shifted = _expected(indices)
    assert metrics['robust/clean_acc'] == pytest.approx(clean)
    assert metrics['robust/shift_linf_0.2/acc'] == pytest.approx(shifted)
    # a second runner draws the same subset
    again = make_runner(dataset=MISLABELLED, test_cfg=cfg)
    assert again.test_loop.dataloader.dataset.indices == indices
    subset = runner.test_loop.result_record()['subset']
    assert subset['selected'] == 6 and subset['dataset_size'] == 12


def _distill(student, teacher):
    return dict(
        _scope_='mmrazor',
        type='SingleTeacherDistill',
        data_preprocessor=dict(
            type='mmpretrain.ClsDataPreprocessor',
            mean=[0, 0, 0],
            std=[255, 255, 255]),
        architecture=classifier(student),
        teacher=classifier(teacher),
        distiller=dict(type='ConfigurableDistiller'))


def test_distillation_student_and_teacher_keys(make_runner):
    # the teacher's levels are reversed: it gets level 0.5 right, level
    # 0.8 only for the mislabelled image 11 (label 0), level 0.2 never
    model = _distill(
        dict(type='LevelBackbone'),
        dict(type='LevelBackbone', levels=LEVELS[::-1]))
    runner = make_runner(
        model=model,
        dataset=MISLABELLED,
        test_cfg=dict(
            type='RobustTestLoop', attacks=[SHIFT], evaluate_teacher=True))
    metrics = runner.test()
    clean, shifted = _expected(range(12))
    assert metrics['robust/clean_acc'] == pytest.approx(clean)
    assert metrics['robust/shift_linf_0.2/acc'] == pytest.approx(shifted)
    assert metrics['teacher/robust/clean_acc'] == pytest.approx(5 / 12 * 100)
    # shifted, the teacher keeps only image 11 (level 1.0 -> its class 0)
    assert metrics['teacher/robust/shift_linf_0.2/acc'] == pytest.approx(
        1 / 12 * 100)
    rows = runner.test_loop.result_record('kd')['rows']
    assert [r['model'] for r in rows] == ['kd', 'kd (teacher)']


def _affine_grad(seed, x, y):
    """∇ₓ CE of AffineBackbone (logits [0, wᵀx + b], b = 0), closed form."""
    gen = torch.Generator().manual_seed(seed)
    w = 0.05 * torch.randn(x.shape[1], generator=gen)
    z = x @ w
    coef = torch.where(y == 0, torch.sigmoid(z), -torch.sigmoid(-z))
    loss = torch.where(y == 0, torch.nn.functional.softplus(z),
                       torch.nn.functional.softplus(-z))
    return coef[:, None] * w, loss


def test_diagnostics_match_closed_form_gradients(make_runner):
    levels = (0.3, 0.6)
    eps = 8 / 255
    model = _distill(
        dict(type='AffineBackbone', seed=0), dict(type='AffineBackbone',
                                                  seed=1))
    runner = make_runner(
        model=model,
        dataset=dict(type='RobustToyDataset', n=6, levels=levels),
        test_cfg=dict(
            type='RobustTestLoop',
            evaluate_teacher=True,
            diagnostics=dict(eps=eps, steps=3),
            sanity_checks=False))
    metrics = runner.test()
    y = torch.arange(6) % 2
    x = torch.tensor([level_pixels(levels[i]) / 255 for i in y.tolist()])
    x = x[:, None].expand(6, 192)
    g_s, loss_s = _affine_grad(0, x, y)
    g_t, _ = _affine_grad(1, x, y)
    diff = g_s - g_t
    expected = {
        'robust/clean_loss': loss_s.mean(),
        'robust/grad_l1': g_s.abs().sum(1).mean(),
        'robust/grad_misalign_l1': diff.abs().sum(1).mean(),
        'robust/grad_misalign_l2': diff.norm(dim=1).mean(),
        'robust/grad_cos_sim': torch.nn.functional.cosine_similarity(
            g_s, g_t, dim=1).mean(),
        'teacher/robust/grad_l1': g_t.abs().sum(1).mean(),
    }
    assert 'teacher/robust/grad_misalign_l1' not in metrics
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value.item(), rel=1e-4), key
    # the bounds are sums of the reported means
    gamma = metrics['robust/local_linearity']
    assert gamma >= 0
    assert metrics['robust/first_order_bound'] == pytest.approx(
        metrics['robust/clean_loss'] + eps * metrics['robust/grad_l1'] +
        gamma)
    assert metrics['robust/transfer_bound'] == pytest.approx(
        metrics['robust/clean_loss'] + eps *
        (g_t.abs().sum(1).mean().item() +
         metrics['robust/grad_misalign_l1']) + gamma,
        rel=1e-4)


def test_duplicate_attack_names_are_rejected(make_runner):
    runner = make_runner(
        test_cfg=dict(type='RobustTestLoop', attacks=[SHIFT, SHIFT]))
    with pytest.raises(ValueError, match='distinct names.*name=...'):
        runner.test()


def test_teacher_of_a_plain_classifier_is_rejected(make_runner):
    runner = make_runner(
        test_cfg=dict(type='RobustTestLoop', evaluate_teacher=True))
    with pytest.raises(ValueError, match='evaluate_teacher=False'):
        runner.test()


@pytest.mark.parametrize('diagnostics, match', [
    (dict(eps=8 / 255, step=3), r"unknown keys \['step'\]"),
    (dict(steps=3), 'diagnostics needs eps'),
    (dict(eps=8), r'eps=8 / 255'),
])
def test_bad_diagnostics_name_the_key(make_runner, diagnostics, match):
    runner = make_runner(
        test_cfg=dict(type='RobustTestLoop', diagnostics=diagnostics))
    with pytest.raises(ValueError, match=match):
        runner.test()


def test_val_during_training_saves_best_robust_checkpoint(tmp_path):
    from mmengine.runner import Runner

    from ..conftest import runner_cfg
    cfg = runner_cfg(
        tmp_path,
        dataset=MISLABELLED,
        val_cfg=dict(type='RobustValLoop', attacks=[SHIFT]))
    cfg.update(
        experiment_name='robust_val_in_training',
        train_dataloader=dict(
            dataset=MISLABELLED,
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook',
                interval=1,
                save_best='robust/shift_linf_0.2/acc')))
    runner = Runner.from_cfg(cfg)
    runner.train()
    # the rule was inferred from 'acc' (greater); epoch 1 is the best
    assert (tmp_path / 'best_robust_shift_linf_0.2_acc_epoch_1.pth').is_file()
    assert runner.message_hub.get_info('best_score') == pytest.approx(25.0)
    # training went on after validation: parameters still trainable
    assert all(p.requires_grad for p in runner.model.parameters())

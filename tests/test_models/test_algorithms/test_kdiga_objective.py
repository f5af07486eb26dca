"""The KDIGA objective's pieces: α on the KL terms and 1 − α on the task
loss, the summed CE, targets."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from kdiga_mmrazor.models.algorithms.kdiga_objective import (
    apply_alpha,
    at_least_fp32,
    check_loss_weights,
    classifier_task_loss,
    gather_targets,
    summed_cross_entropy,
)

from ...conftest import data_samples, toy_classifier


def _distiller(**kl):
    return dict(distill_losses=dict(
        loss_kl=dict(type='KLDivergence', tau=1, **kl),
        loss_iga=dict(type='InputGradientAlignmentLoss', loss_weight=0.1)))


def test_alpha_weights_the_kl_terms_and_leaves_the_others():
    losses = apply_alpha(_distiller(), 0.3)['distill_losses']
    assert losses['loss_kl']['loss_weight'] == 0.3
    assert losses['loss_iga']['loss_weight'] == 0.1
    assert apply_alpha(_distiller(loss_weight=0.3), 0.3)['distill_losses'][
        'loss_kl']['loss_weight'] == 0.3


def test_a_kl_weight_that_disagrees_with_alpha_names_both_keys():
    with pytest.raises(ValueError, match=r'distill_losses.loss_kl.'
                       r'loss_weight=0.5 but model.alpha=0.3'):
        apply_alpha(_distiller(loss_weight=0.5), 0.3)
    with pytest.raises(ValueError, match=r'model.alpha must be a number in '
                       r'\[0, 1\]'):
        apply_alpha(_distiller(), 1.5)


def test_task_loss_is_rescaled_whatever_the_head_says():
    head_cfg = toy_classifier()
    head_cfg['head'] = dict(
        type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=4.0))
    model = MMPRETRAIN_MODELS.build(head_cfg)
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    samples = data_samples([0, 2])
    ce = F.cross_entropy(logits, torch.tensor([0, 2]))
    torch.testing.assert_close(
        classifier_task_loss(model, logits, samples)['loss'], 4.0 * ce)
    torch.testing.assert_close(
        classifier_task_loss(model, logits, samples, weight=0.5)['loss'],
        0.5 * ce)


def test_summed_cross_entropy_is_fp32_and_summed():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.bfloat16)
    y = torch.tensor([0, 0])
    got = summed_cross_entropy(logits, y)
    assert got.dtype == torch.float32
    torch.testing.assert_close(
        got, F.cross_entropy(logits.float(), y, reduction='sum'))
    assert at_least_fp32(torch.ones(1, dtype=torch.float64)).dtype == \
        torch.float64


def test_targets_are_labels_or_soft_scores():
    assert gather_targets(data_samples([2, 0])).tolist() == [2, 0]
    soft = data_samples([0, 1])
    for s in soft:
        s.set_gt_score(torch.tensor([0.25, 0.75]))
    assert gather_targets(soft).tolist() == [[0.25, 0.75]] * 2


def test_non_finite_loss_weights_are_refused_naming_the_key():
    from types import SimpleNamespace

    from torch import nn
    distiller = SimpleNamespace(distill_losses=nn.ModuleDict(
        dict(loss_kl=nn.Identity())))
    distiller.distill_losses['loss_kl'].loss_weight = 0.5
    student = MMPRETRAIN_MODELS.build(toy_classifier())
    check_loss_weights(distiller, student, 'Algo')  # finite: passes
    distiller.distill_losses['loss_kl'].loss_weight = float('nan')
    with pytest.raises(ValueError, match=r'Algo: model\.distiller\.'
                       r'distill_losses\.loss_kl\.loss_weight=nan'):
        check_loss_weights(distiller, student, 'Algo')
    distiller.distill_losses['loss_kl'].loss_weight = 0.5
    student.head.loss_module.loss_weight = float('inf')
    with pytest.raises(ValueError, match=r'model\.architecture\.head\.'
                       r'loss\.loss_weight=inf'):
        check_loss_weights(distiller, student, 'Algo')

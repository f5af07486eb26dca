"""The robust-distillation terms on hand-computed distributions."""
import math

import pytest
import torch

from kdiga_mmrazor.models.algorithms.robust_distill_objectives import (
    StudentTeacherLogits,
    discrepancy_objective,
    iad_reliability,
    igdm_loss,
    igdm_ramp,
    kl_loss,
    kl_per_sample,
    reduce_kl,
    soft_label_objective,
    true_class_probability,
    weighted_kl,
)

P = torch.tensor([[0.5, 0.25, 0.25], [1 / 3, 1 / 3, 1 / 3]])
Q = torch.tensor([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.25, 0.25]])
# KL(P ‖ Q) per row, written out
KL_0 = 0.5 * math.log(0.5 / (1 / 3)) + 2 * 0.25 * math.log(0.25 / (1 / 3))
KL_1 = (math.log((1 / 3) / 0.5) + 2 * math.log((1 / 3) / 0.25)) / 3
EXPECTED = torch.tensor([KL_0, KL_1])


def test_kl_per_sample_is_the_kl_of_the_softmaxes():
    assert KL_0 == pytest.approx(0.0588915, abs=1e-6)
    assert KL_1 == pytest.approx(0.0566330, abs=1e-6)
    torch.testing.assert_close(kl_per_sample(P.log(), Q.log()), EXPECTED)
    # logits are defined up to a constant per row
    torch.testing.assert_close(
        kl_per_sample(P.log() + 3.0, Q.log() - 1.0), EXPECTED)


def test_temperature_softens_both_sides_and_scales_by_tau_squared():
    torch.testing.assert_close(
        kl_per_sample(2 * P.log(), 2 * Q.log(), tau=2.0), 4 * EXPECTED)


def test_reductions_batchmean_and_element_mean():
    batchmean = (KL_0 + KL_1) / 2
    assert kl_loss(P.log(), Q.log()).item() == pytest.approx(batchmean)
    assert kl_loss(P.log(), Q.log(), reduction='mean').item() == \
        pytest.approx(batchmean / 3)
    with pytest.raises(ValueError, match='batchmean'):
        reduce_kl(EXPECTED, 'sum', 3)


def test_kl_loss_detaches_the_target():
    target = P.log().clone().requires_grad_(True)
    logits = Q.log().clone().requires_grad_(True)
    kl_loss(target, logits).backward()
    assert target.grad is None
    assert logits.grad.abs().sum() > 0


def test_true_class_probability_hard_and_soft_targets():
    logits = P.log()
    torch.testing.assert_close(
        true_class_probability(logits, torch.tensor([0, 2])),
        torch.tensor([0.5, 1 / 3]))
    soft = torch.tensor([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    torch.testing.assert_close(
        true_class_probability(logits, soft), torch.tensor([0.25, 1 / 3]))


def test_iad_reliability_is_the_true_class_probability_to_beta():
    logits = P.log().clone().requires_grad_(True)
    w = iad_reliability(logits, torch.tensor([0, 1]), beta=0.5)
    torch.testing.assert_close(
        w, torch.tensor([math.sqrt(0.5), math.sqrt(1 / 3)]))
    assert not w.requires_grad


def test_weighted_kl_weights_each_sample_and_trains_both_sides():
    target = P.log().clone().requires_grad_(True)
    logits = Q.log().clone().requires_grad_(True)
    loss = weighted_kl(target, logits, torch.tensor([1.0, 0.0]))
    assert loss.item() == pytest.approx(KL_0 / 2)
    loss.backward()
    # IAD's S(x) target is not detached: the gradient reaches it
    assert target.grad[0].abs().sum() > 0
    assert target.grad[1].abs().sum() == 0  # weight 0


def test_igdm_loss_is_the_kl_of_the_output_differences():
    t_minus = torch.randn(2, 3)
    s_minus = torch.randn(2, 3)
    t_plus = (t_minus + P.log()).requires_grad_(True)
    s_plus = (s_minus + Q.log()).requires_grad_(True)
    loss = igdm_loss(t_plus, t_minus, s_plus, s_minus)
    assert loss.item() == pytest.approx((KL_0 + KL_1) / 2, rel=1e-5)
    loss.backward()
    assert t_plus.grad is None  # the teacher's side is a target
    assert s_plus.grad.abs().sum() > 0
    # equal differences (up to a constant per row) give zero
    same = igdm_loss(t_plus.detach(), t_minus, t_plus.detach() + 5.0,
                     t_minus)
    assert same.abs().item() < 1e-6


def test_igdm_ramp_is_linear_then_one():
    assert igdm_ramp(0, 391) == pytest.approx(1 / 391)
    assert igdm_ramp(194, 391) == pytest.approx(195 / 391)
    assert igdm_ramp(390, 391) == 1.0
    assert igdm_ramp(5000, 391) == 1.0
    assert igdm_ramp(5, None) == 1.0
    assert igdm_ramp(5, 0) == 1.0


def test_soft_label_objective_holds_the_teacher_fixed():
    teacher = P.log().clone().requires_grad_(True)
    student = Q.log().clone().requires_grad_(True)
    objective = soft_label_objective(teacher)
    values = objective(student)
    torch.testing.assert_close(values, EXPECTED)
    values.sum().backward()
    assert teacher.grad is None and student.grad.abs().sum() > 0


def test_discrepancy_objective_queries_both_models_at_the_same_point():
    student = torch.nn.Linear(4, 3)
    teacher = torch.nn.Linear(4, 3)
    pair = StudentTeacherLogits(student, teacher)
    x = torch.randn(2, 4, requires_grad=True)
    stacked = pair(x)
    assert stacked.shape == (2, 2, 3)
    values = discrepancy_objective(stacked)
    torch.testing.assert_close(values,
                               kl_per_sample(teacher(x), student(x)))
    (grad, ) = torch.autograd.grad(values.sum(), x)
    # the gradient flows through the teacher too (AdaAD's T(x') moves)
    (through_student, ) = torch.autograd.grad(
        kl_per_sample(teacher(x).detach(), student(x)).sum(), x)
    assert not torch.allclose(grad, through_student)

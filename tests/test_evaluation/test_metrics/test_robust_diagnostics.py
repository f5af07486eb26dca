"""RobustDiagnostics: means of the per-sample values and the bounds."""
import pytest
import torch
from mmengine.registry import METRICS

import kdiga_mmrazor.evaluation  # noqa: F401
from kdiga_mmrazor.evaluation import RobustDiagnostics


def test_calculate_means_and_bounds_hand_computed():
    eps = 0.1
    values = dict(
        clean_loss=torch.tensor([1.0, 3.0], dtype=torch.float64),
        grad_l1=torch.tensor([10.0, 30.0], dtype=torch.float64),
        local_linearity=torch.tensor([0.5, 1.5], dtype=torch.float64),
        grad_misalign_l1=torch.tensor([4.0, 0.0], dtype=torch.float64),
        grad_misalign_l2=torch.tensor([2.0, 0.0], dtype=torch.float64),
        grad_cos_sim=torch.tensor([0.0, 1.0], dtype=torch.float64),
        teacher_grad_l1=torch.tensor([6.0, 30.0], dtype=torch.float64))
    out = RobustDiagnostics.calculate(values, eps)
    expected = dict(
        clean_loss=2.0,
        grad_l1=20.0,
        local_linearity=1.0,
        # mean of (1 + 1 + 0.5, 3 + 3 + 1.5)
        first_order_bound=(2.5 + 7.5) / 2,
        grad_misalign_l1=2.0,
        grad_misalign_l2=1.0,
        grad_cos_sim=0.5,
        # mean of (1 + 0.1·(6 + 4) + 0.5, 3 + 0.1·(30 + 0) + 1.5)
        transfer_bound=(2.5 + 7.5) / 2)
    assert out.keys() == expected.keys()
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key


def test_keys_follow_available_fields_and_dedupe():
    metric = METRICS.build(
        dict(type='RobustDiagnostics', eps=8 / 255, prefix='teacher/robust'))
    metric.process(None, [
        dict(sample_idx=0, clean_loss=1.0, grad_l1=2.0),
        dict(sample_idx=1, clean_loss=3.0, grad_l1=4.0),
        dict(sample_idx=0, clean_loss=1.0, grad_l1=2.0),  # padding copy
    ])
    assert metric.evaluate(2) == {
        'teacher/robust/clean_loss': 2.0,
        'teacher/robust/grad_l1': 3.0
    }

"""CertifiedAccuracy against hand-computed percentages: abstentions,
radii exactly at a threshold, prefixes, de-duplication by index."""
import pytest
import torch
from mmengine.registry import METRICS

from kdiga_mmrazor.evaluation import CertifiedAccuracy

# label, prediction (-1 = abstain), radius
SAMPLES = [
    (0, 0, 0.10),
    (1, 1, 0.50),  # exactly at r = 0.5: certified there
    (2, -1, 0.0),  # abstains: wrong at every radius
    (1, 0, 0.90),  # certified, but the wrong class
    (2, 2, 0.75),
    (0, 0, 0.4999),  # just below 0.5
    (1, -1, 0.0),
    (2, 2, 1.20),
]


def _results(samples=SAMPLES, start=0):
    return [dict(sample_idx=start + i, label=y, prediction=p, radius=r)
            for i, (y, p, r) in enumerate(samples)]


def test_hand_computed_percentages():
    metric = CertifiedAccuracy('rs', radii=(0.0, 0.25, 0.5, 1.0))
    metric.process(None, _results())
    metrics = metric.evaluate(size=8)
    # correct: samples 0, 1, 4, 5, 7 (5 of 8); radii 0.1, 0.5, 0.75,
    # 0.4999, 1.2
    assert metrics == {
        'robust/rs/certified_acc_r0': 100 * 5 / 8,
        'robust/rs/certified_acc_r0.25': 100 * 4 / 8,
        'robust/rs/certified_acc_r0.5': 100 * 3 / 8,
        'robust/rs/certified_acc_r1': 100 * 1 / 8,
        'robust/rs/smoothed_acc': 100 * 5 / 8,
        'robust/rs/abstain': 100 * 2 / 8,
    }
    assert metric.num_samples == 8
    assert all('acc' in k for k in metrics if 'abstain' not in k)


def test_each_sample_counts_once_and_prefix():
    metric = METRICS.build(
        dict(type='CertifiedAccuracy', name='rs', radii=(0.5, ),
             prefix='teacher/robust'))
    metric.process(None, _results(SAMPLES[:2]))
    metric.process(None, _results(SAMPLES[:2]))  # a padded repeat
    metric.process(None, _results([(1, 0, 0.2)], start=2))  # wrong
    metrics = metric.evaluate(size=3)
    assert metrics['teacher/robust/rs/certified_acc_r0.5'] == \
        pytest.approx(100 / 3)
    assert metrics['teacher/robust/rs/smoothed_acc'] == pytest.approx(200 / 3)
    assert metric.num_samples == 3


def test_calculate_and_no_samples():
    assert CertifiedAccuracy.calculate(
        torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, -1, 0]),
        torch.tensor([0.3, 0.6, 0.0, 0.9]), radii=(0.0, 0.5)) == {
            'certified_acc_r0': 50.0, 'certified_acc_r0.5': 25.0,
            'smoothed_acc': 50.0, 'abstain': 25.0}
    with pytest.raises(ValueError, match='no samples'):
        CertifiedAccuracy('rs').evaluate(size=0)

"""RobustAccuracy: percentages from per-sample correctness, each sample
counted once, keys for CheckpointHook."""
import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.registry import METRICS

import kdiga_mmrazor.evaluation  # noqa: F401
from kdiga_mmrazor.evaluation import RobustAccuracy


def test_calculate_counts_robust_only_if_also_clean_correct():
    clean = torch.tensor([True, True, False, True])
    adv = dict(pgd20_linf_8=torch.tensor([True, False, True, False]))
    # robust: correct clean AND attacked -> only sample 0
    assert RobustAccuracy.calculate(clean, adv) == {
        'clean_acc': 3 / 4 * 100,
        'pgd20_linf_8/acc': 1 / 4 * 100
    }


def _sample(i, clean, **adv):
    return dict(sample_idx=i, clean=clean, adv=adv)


def test_evaluate_dedupes_by_sample_index_and_prefixes_keys():
    metric = METRICS.build(
        dict(type='RobustAccuracy', attack_names=['fgsm_linf_8']))
    metric.process(None, [
        _sample(0, True, fgsm_linf_8=True),
        _sample(1, True, fgsm_linf_8=False),
        _sample(2, False, fgsm_linf_8=False)
    ])
    # DefaultSampler padding repeats sample 0 (same result) at the end
    metric.process(None, [_sample(0, True, fgsm_linf_8=True)])
    metrics = metric.evaluate(3)
    assert metrics == pytest.approx({
        'robust/clean_acc': 2 / 3 * 100,
        'robust/fgsm_linf_8/acc': 1 / 3 * 100
    })
    assert metric.results == []


def test_teacher_prefix():
    metric = METRICS.build(
        dict(type='RobustAccuracy', prefix='teacher/robust'))
    metric.process(None, [_sample(5, True, pgd20_linf_2=True)])
    assert metric.evaluate(1) == {
        'teacher/robust/clean_acc': 100.0,
        'teacher/robust/pgd20_linf_2/acc': 100.0
    }


def test_keys_make_checkpoint_hook_infer_greater():
    hook = CheckpointHook(save_best='robust/pgd20_linf_8/acc')
    hook._init_rule([None], hook.key_indicators)
    assert hook.rules == ['greater']
    hook = CheckpointHook(save_best='robust/clean_acc')
    hook._init_rule([None], hook.key_indicators)
    assert hook.rules == ['greater']


def test_no_samples_raises():
    with pytest.raises(ValueError, match='num_samples'):
        RobustAccuracy.calculate(torch.zeros(0, dtype=torch.bool), {})

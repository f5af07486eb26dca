"""IndexedMetric: per-sample results de-duplicated by ``sample_idx`` (the
copies DefaultSampler pads with are counted once), prefixed, cleared."""
import pytest

from kdiga_mmrazor.evaluation.metrics.indexed_metric import (
    IndexedMetric,
    gather_unique,
    unique_by_index,
)


class CountMetric(IndexedMetric):
    """``n``: distinct samples; ``total``: sum of their ``value``;
    ``order``: their indices as computed on."""
    default_prefix = 'count'

    def process(self, data_batch, data_samples):
        self.results.extend(dict(s) for s in data_samples)

    def compute_metrics(self, results):
        return dict(
            n=len(results),
            total=sum(r['value'] for r in results),
            order=[r['sample_idx'] for r in results])


@pytest.fixture
def logged(mmengine_log):
    """Messages MMEngine's loggers emitted (``print_log`` in
    ``indexed_metric``)."""
    return mmengine_log.view(contains='distinct samples')


def _r(i, value):
    return dict(sample_idx=i, value=value)


def test_unique_by_index_keeps_first_of_each_index_sorted():
    results = [_r(2, 20), _r(0, 0), _r(2, 99), _r(1, 10)]
    assert unique_by_index(results) == [_r(0, 0), _r(1, 10), _r(2, 20)]


def test_unique_by_index_reads_the_given_key():
    results = [dict(idx=1, v='a'), dict(idx=1, v='b')]
    assert unique_by_index(results, key='idx') == [dict(idx=1, v='a')]


def test_gather_unique_without_process_group_only_dedupes():
    assert gather_unique([_r(1, 1), _r(1, 1), _r(0, 5)]) == [
        _r(0, 5), _r(1, 1)]


def test_padded_duplicate_is_counted_once(logged):
    metric = CountMetric()
    # 3 samples; DefaultSampler pads the last batch with sample 0 again
    metric.process(None, [_r(0, 1), _r(1, 2)])
    metric.process(None, [_r(2, 4), _r(0, 1)])
    assert metric.evaluate(3) == {
        'count/n': 3,
        'count/total': 1 + 2 + 4,
        'count/order': [0, 1, 2]
    }
    assert logged == []


def test_results_are_computed_in_index_order():
    metric = CountMetric()
    metric.process(None, [_r(2, 4), _r(0, 1), _r(1, 2)])
    assert metric.evaluate(3)['count/order'] == [0, 1, 2]


def test_results_are_cleared_after_evaluate():
    metric = CountMetric()
    metric.process(None, [_r(0, 1)])
    metric.evaluate(1)
    assert metric.results == []


def test_prefix_argument_replaces_default_prefix():
    metric = CountMetric(prefix='teacher/count')
    metric.process(None, [_r(0, 3)])
    assert metric.evaluate(1) == {
        'teacher/count/n': 1,
        'teacher/count/total': 3,
        'teacher/count/order': [0]
    }


def test_size_mismatch_is_reported_with_both_counts(logged):
    metric = CountMetric()
    metric.process(None, [_r(0, 1), _r(1, 2), _r(1, 2)])
    assert metric.evaluate(5)['count/n'] == 2
    assert logged == [
        'CountMetric: gathered 2 distinct samples, the dataloader holds '
        '5; the metrics are over the gathered ones'
    ]


def test_robust_accuracy_counts_padded_sample_once():
    from mmengine.registry import METRICS
    metric = METRICS.build(dict(type='RobustAccuracy'))
    sample = dict(sample_idx=0, clean=False, adv=dict(pgd20_linf_8=False))
    metric.process(None, [
        sample,
        dict(sample_idx=1, clean=True, adv=dict(pgd20_linf_8=True)),
        sample
    ])
    # 1 of 2 distinct samples correct (not 1 of 3)
    assert metric.evaluate(2) == {
        'robust/clean_acc': 100 * 1 / 2,
        'robust/pgd20_linf_8/acc': 100 * 1 / 2
    }

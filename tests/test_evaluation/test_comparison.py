"""evaluation.comparison: rows joined and relabelled, robust accuracy
against ε per model and attack family."""
import pytest

from kdiga_mmrazor.evaluation.comparison import curves, gather_rows

from .conftest import robust_record


def test_curves_start_at_clean_accuracy_and_sort_by_eps():
    data = curves(
        [robust_record('t', 76.5, [(2, 61.0), (8, 15.0)])], ['teacher'])
    assert data == {
        'linf': {
            'teacher pgd20_linf': [(0.0, 76.5), (2 / 255, 61.0),
                                   (8 / 255, 15.0)]
        }
    }
    with pytest.raises(ValueError, match='one per work dir'):
        gather_rows([robust_record('t', 1.0, [])], ['a', 'b'])

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


def test_malformed_record_in_memory_names_its_position_and_field():
    good = robust_record('t', 76.5, [(2, 61.0)])
    bad = robust_record('s', 80.0, [(2, 40.0)])
    del bad['rows'][0]['model']
    with pytest.raises(ValueError, match=r"^gather_robust_results: "
                       r"records\[1\]: rows\[0\] has no 'model' field"):
        gather_rows([good, bad])
    with pytest.raises(ValueError, match=r'records\[0\]: expected a result '
                       r'record'):
        curves([[good]])


def test_attacks_without_norm_or_eps_stay_out_of_the_curves():
    record = robust_record('t', 76.5, [(2, 61.0)])
    record['attacks'].append(dict(type='Custom', name='custom'))
    record['rows'][0]['custom/acc'] = 12.0
    assert curves([record]) == {
        'linf': {'t pgd20_linf': [(0.0, 76.5), (2 / 255, 61.0)]}
    }
    assert gather_rows([record])[0]['custom/acc'] == 12.0

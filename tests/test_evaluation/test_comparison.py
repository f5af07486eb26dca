"""evaluation.comparison: rows joined and relabelled, robust accuracy
against ε per model and attack family."""
import pytest

from kdiga_mmrazor.evaluation.comparison import (
    curve_styles,
    curves,
    gather_rows,
    plot_curves,
)

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


def _curves(models):
    return {'linf': {f'{m} {family}': [(0.0, 80.0), (2 / 255, 40.0)]
                     for m in models
                     for family in ('autoattack_linf', 'pgd20_linf')}}


@pytest.mark.parametrize('count', [3, 10, 12])
def test_one_colour_per_model_one_line_style_per_attack(count, tmp_path):
    """Both attacks of a model share its colour; models never share one
    (tab20 beyond ten); PGD solid with circles, AutoAttack dashed."""
    models = [f'method ({k})' for k in range(count)]
    data = _curves(models)
    styles = plot_curves(data, str(tmp_path / 'eps.png'), note='a test')
    assert styles == curve_styles(data)
    colours = {m: {styles[f'{m} {f}']['color']
                   for f in ('pgd20_linf', 'autoattack_linf')}
               for m in models}
    assert all(len(c) == 1 for c in colours.values())
    assert len(set.union(*colours.values())) == count
    pgd, aa = styles['method (0) pgd20_linf'], styles[
        'method (0) autoattack_linf']
    assert (pgd['linestyle'], pgd['marker'], pgd['label']) == (
        '-', 'o', 'method (0), pgd20_linf')
    assert (aa['linestyle'], aa['marker'], aa['label']) == (
        '--', 's', 'method (0), AutoAttack')
    with open(tmp_path / 'eps.png', 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'

"""tools/analysis/gather_robust_results.py: one table and the ε curves
from several work dirs; malformed results named by file and field; model
names that would break the Markdown table escaped."""
import json
import re

import pytest

from kdiga_mmrazor.evaluation import write_results

from ...conftest import load_tool
from ...test_evaluation.conftest import robust_record


@pytest.fixture(scope='module')
def gather():
    return load_tool('tools/analysis/gather_robust_results.py',
                     'kdiga_tools_gather')


def test_gather_tool_table_and_curves(gather, tmp_path):
    write_results(
        robust_record('resnet4b_cifar10', 76.5, [(2, 61.0), (8, 15.0)]),
        str(tmp_path / 'teacher'))
    write_results(
        robust_record('kdiga_student', 80.0, [(2, 40.0)]),
        str(tmp_path / 'kdiga'))
    paths = gather.main([
        str(tmp_path / 'teacher'),
        str(tmp_path / 'kdiga'), '--names', 'teacher', 'KDIGA', '--out-dir',
        str(tmp_path / 'cmp')
    ])
    with open(paths['md']) as f:
        assert f.read() == ('| model | clean | pgd20_linf_2 | pgd20_linf_8 |\n'
                            '|---|---:|---:|---:|\n'
                            '| teacher | 76.50 | 61.00 | 15.00 |\n'
                            '| KDIGA | 80.00 | 40.00 | – |\n')
    with open(paths['png'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_names_with_pipes_and_newlines_are_escaped(gather, tmp_path):
    write_results(robust_record('a|b\nc', 76.5, [(2, 61.0)]),
                  str(tmp_path / 'one'))
    write_results(robust_record('plain', 70.0, [(2, 50.0)]),
                  str(tmp_path / 'two'))
    paths = gather.main([
        str(tmp_path / 'one'),
        str(tmp_path / 'two'), '--names', 'a|b\nc', 'x|y', '--out-dir',
        str(tmp_path / 'cmp'), '--no-plot'
    ])
    with open(paths['md']) as f:
        lines = f.read().splitlines()
    assert lines[2:] == ['| a\\|b c | 76.50 | 61.00 |',
                         '| x\\|y | 70.00 | 50.00 |']
    for line in lines:  # 3 columns: model, clean, pgd20_linf_2
        assert len(re.split(r'(?<!\\)\|', line)) == 3 + 2, line
    with open(paths['json']) as f:  # the JSON keeps the names as given
        assert [r['model'] for r in json.load(f)['rows']] == [
            'a|b\nc', 'x|y']


@pytest.mark.parametrize('content, field', [
    ('not json', r'not a JSON result record'),
    ('[]', r'expected a result record'),
    (json.dumps(dict(rows=[dict(model='m', clean_acc=1.0)])),
     r"the record has no 'attacks' field"),
    (json.dumps(dict(rows=[dict(model='m', clean_acc='high')],
                     attacks=[])), r"rows\[0\]\['clean_acc'\] must be a "
     r'number'),
])
def test_malformed_results_name_the_file_and_field(gather, tmp_path, content,
                                                   field):
    write_results(robust_record('t', 76.5, [(2, 61.0)]), str(tmp_path / 'ok'))
    bad = tmp_path / 'bad' / 'robust_results.json'
    bad.parent.mkdir()
    bad.write_text(content)
    with pytest.raises(ValueError, match=rf'^{re.escape(str(bad))}: {field}'):
        gather.main([str(tmp_path / 'ok'), str(tmp_path / 'bad'),
                     '--out-dir', str(tmp_path / 'cmp')])
    assert not (tmp_path / 'cmp').exists()  # nothing written

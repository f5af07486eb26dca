"""Result tables: rows from metrics, Markdown/CSV/JSON contents, cells
escaped, malformed records named by file and field."""
import csv
import json
import re

import pytest

from kdiga_mmrazor.evaluation import (
    markdown_table,
    read_results,
    write_results,
)
from kdiga_mmrazor.evaluation.tables import (
    check_record,
    collect_versions,
    csv_table,
    md_cell,
    metrics_to_rows,
)

METRICS = {
    'accuracy/top1': 76.5,
    'robust/clean_acc': 76.5,
    'robust/pgd20_linf_2/acc': 61.25,
    'robust/local_linearity': 0.0123,
    'teacher/robust/clean_acc': 80.0,
    'teacher/robust/pgd20_linf_2/acc': 70.0,
}


def test_rows_split_members_and_strip_prefixes():
    rows = metrics_to_rows(METRICS, 'kd_student', {
        'student': 'robust',
        'teacher': 'teacher/robust'
    })
    assert rows == [
        dict(
            model='kd_student',
            member='student',
            clean_acc=76.5,
            local_linearity=0.0123,
            **{'pgd20_linf_2/acc': 61.25}),
        dict(
            model='kd_student (teacher)',
            member='teacher',
            clean_acc=80.0,
            **{'pgd20_linf_2/acc': 70.0}),
    ]


def test_markdown_table_contents():
    rows = metrics_to_rows(METRICS, 'm', {
        'student': 'robust',
        'teacher': 'teacher/robust'
    })
    assert markdown_table(rows) == (
        '| model | clean | pgd20_linf_2 | local_linearity |\n'
        '|---|---:|---:|---:|\n'
        '| m | 76.50 | 61.25 | 0.01 |\n'
        '| m (teacher) | 80.00 | 70.00 | – |\n')
    assert '| 0.0123 |' in markdown_table(rows, digits=4)


def test_write_results_md_json_csv(tmp_path):
    rows = metrics_to_rows(METRICS, 'm', {'student': 'robust'})
    record = dict(
        model='m',
        metrics=METRICS,
        rows=rows,
        attacks=[dict(type='PGDAttack', name='pgd20_linf_2', eps=2 / 255)],
        versions=collect_versions(),
        checkpoint=dict(path='ckpt.pth', sha256='ab' * 32))
    paths = write_results(record, str(tmp_path))
    assert read_results(str(tmp_path)) == json.loads(
        json.dumps(record))  # the whole record, round-tripped
    with open(paths['csv']) as f:
        table = list(csv.DictReader(f))
    assert table == [{
        'model': 'm',
        'member': 'student',
        'clean_acc': '76.5',
        'pgd20_linf_2/acc': '61.25',
        'local_linearity': '0.0123'
    }]
    with open(paths['md']) as f:
        assert f.read() == markdown_table(rows)
    assert csv_table(rows).splitlines()[0] == (
        'model,member,clean_acc,pgd20_linf_2/acc,local_linearity')


def test_versions_name_the_libraries_numbers_depend_on():
    versions = collect_versions()
    for name in ('torch', 'mmengine', 'mmpretrain', 'mmrazor',
                 'pyautoattack'):
        assert versions[name], name


def test_read_results_missing_names_the_tool(tmp_path):
    with pytest.raises(FileNotFoundError, match='tools/test.py --robust'):
        read_results(str(tmp_path))


def _split_row(line):
    """The cells of a Markdown table row, split at unescaped pipes (as
    GitHub does)."""
    assert line.startswith('| ') and line.endswith(' |'), line
    return [c.strip() for c in re.split(r'(?<!\\)\|', line[2:-2])]


@pytest.mark.parametrize('value, cell', [
    ('a|b', 'a\\|b'),
    ('two\nlines', 'two lines'),
    ('cr\r\nlf\rend\n', 'cr lf end'),
    ('back\\slash', 'back\\\\slash'),
    ('', ''),
    (3, '3'),
])
def test_md_cell_escapes_pipes_and_removes_line_breaks(value, cell):
    assert md_cell(value) == cell


def test_names_with_pipes_and_newlines_keep_the_table_shape():
    rows = [dict(model='kd|T=4\nα=0.9', member='student', clean_acc=80.0,
                 **{'pgd|x/acc': 40.0}),
            dict(model='plain', member='student', clean_acc=70.0)]
    lines = markdown_table(rows).splitlines()
    assert len(lines) == 4  # header, rule, one line per row
    assert [len(_split_row(line)) for line in lines[:1] + lines[2:]] == [
        3, 3, 3]
    assert _split_row(lines[0]) == ['model', 'clean', 'pgd\\|x']
    assert _split_row(lines[2]) == ['kd\\|T=4 α=0.9', '80.00', '40.00']
    assert _split_row(lines[3]) == ['plain', '70.00', '–']


def _write(tmp_path, content) -> str:
    path = tmp_path / 'robust_results.json'
    path.write_text(content if isinstance(content, str) else
                    json.dumps(content))
    return str(path)


ROW = dict(model='m', member='student', clean_acc=76.5)
ATTACK = dict(type='PGDAttack', name='pgd20_linf_2', norm='linf',
              eps=2 / 255)


@pytest.mark.parametrize('content, match', [
    ('{"rows": [', r'not a JSON result record \(Expecting value: line 1 '
     r'column 11'),
    ([ROW], r"expected a result record \(an object with 'rows' and "
     r"'attacks'\), got a list$"),
    (dict(attacks=[]), r"the record has no 'rows' field; is it a "
     r'robust_results.json written by tools/test.py --robust\?$'),
    (dict(rows=[ROW]), r"the record has no 'attacks' field"),
    (dict(rows={'m': ROW}, attacks=[]), r'rows must be a list, got dict$'),
    (dict(rows=[ROW, 'm'], attacks=[]), r"rows\[1\] must be an object "
     r"\(model, member, metrics\), got 'm' \(str\)$"),
    (dict(rows=[dict(member='student')], attacks=[]),
     r"rows\[0\] has no 'model' field \(the row label\)$"),
    (dict(rows=[dict(ROW, model=7)], attacks=[]),
     r'rows\[0\].model must be a string, got 7 \(int\)$'),
    (dict(rows=[dict(ROW, clean_acc='76.5')], attacks=[]),
     r"rows\[0\]\['clean_acc'\] must be a number \(an accuracy in %\), got "
     r"'76.5' \(str\)$"),
    (dict(rows=[dict(ROW, **{'pgd/acc': [1]})], attacks=[]),
     r"rows\[0\]\['pgd/acc'\] must be a number"),
    (dict(rows=[dict(ROW, extra={'a': 1})], attacks=[]),
     r"rows\[0\]\['extra'\] must be a number or a string, got \{'a': 1\}"),
    (dict(rows=[ROW], attacks=[ATTACK, 'pgd']),
     r"attacks\[1\] must be an object \(the attack settings\), got 'pgd'"),
    (dict(rows=[ROW], attacks=[dict(ATTACK, name=None)]),
     r"attacks\[0\].name must be a string \(the attack's name\), got None"),
    (dict(rows=[ROW], attacks=[dict(ATTACK, eps='2/255')]),
     r"attacks\[0\].eps must be a number, got '2/255' \(str\)$"),
    (dict(rows=[ROW], attacks=[dict(ATTACK, norm=2)]),
     r'attacks\[0\].norm must be a string, got 2 \(int\)$'),
])
def test_malformed_records_name_the_file_and_field(tmp_path, content,
                                                   match):
    path = _write(tmp_path, content)
    with pytest.raises(ValueError, match=rf'^{re.escape(path)}: {match}'):
        read_results(str(tmp_path))


def test_a_binary_file_is_not_a_record(tmp_path):
    path = tmp_path / 'robust_results.json'
    path.write_bytes(b'\xff\xfe\x00garbage')
    with pytest.raises(ValueError, match=rf'^{re.escape(str(path))}: not a '
                       'JSON result record'):
        read_results(str(path))


def test_check_record_returns_a_good_record():
    record = dict(rows=[ROW], attacks=[ATTACK, dict(type='X', name='x')])
    assert check_record(record, 'here') is record

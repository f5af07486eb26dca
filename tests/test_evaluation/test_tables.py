"""Result tables: rows from metrics, Markdown/CSV/JSON contents."""
import csv
import json

import pytest

from kdiga_mmrazor.evaluation import (
    markdown_table,
    read_results,
    write_results,
)
from kdiga_mmrazor.evaluation.tables import (
    collect_versions,
    csv_table,
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

"""Robust-evaluation result tables: Markdown, JSON and CSV.

A *record* is what one robust evaluation knows about itself (see
:meth:`RobustEvaluator.record`): the metrics, one row per evaluated
model, the attack and subset settings, the library versions and, added by
``tools/test.py``, the checkpoint's path and sha256. Tables are written
from the metrics of the record, never recomputed; ``tools/analysis/
gather_robust_results.py`` joins the records of several work dirs.
"""
import csv
import io
import json
import os
import os.path as osp
import platform
from importlib import metadata
from typing import Dict, List, Optional, Sequence

from mmengine.logging import print_log

RESULT_STEM = 'robust_results'
# distribution names of the libraries a number depends on
LIBRARIES = ('torch', 'mmengine', 'mmcv', 'mmpretrain', 'mmrazor',
             'pyautoattack', 'kdiga_mmrazor')
ALIASES = {'mmcv': ('mmcv', 'mmcv-lite')}


def collect_versions() -> Dict[str, Optional[str]]:
    """Installed versions of Python and :data:`LIBRARIES` (None if
    absent; ``mmcv`` may be the ``mmcv-lite`` distribution)."""
    versions: Dict[str, Optional[str]] = {
        'python': platform.python_version()
    }
    for name in LIBRARIES:
        versions[name] = None
        for dist in ALIASES.get(name, (name, )):
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def metrics_to_rows(metrics: Dict[str, float],
                    model: str,
                    prefixes: Dict[str, str]) -> List[Dict]:
    """One row per member: ``model``, ``member`` and the member's metrics
    with their prefix removed (``clean_acc``, ``pgd20_linf_8/acc``, …).

    Args:
        metrics (dict): Flat metrics (``robust/clean_acc``, ...).
        model (str): Row label of the evaluated model.
        prefixes (dict): Member ↦ key prefix, e.g. ``{'student':
            'robust', 'teacher': 'teacher/robust'}``; the teacher's row is
            labelled ``'{model} (teacher)'``.
    """
    rows = []
    for member, prefix in prefixes.items():
        values = {
            k[len(prefix) + 1:]: v
            for k, v in metrics.items() if k.startswith(prefix + '/')
        }
        if not values:
            continue
        label = model if member == 'student' else f'{model} ({member})'
        rows.append(dict(model=label, member=member, **values))
    return rows


def table_columns(rows: Sequence[Dict]) -> List[str]:
    """Metric columns in first-seen order: ``clean_acc``, attacks (``…/acc``),
    then the diagnostics."""
    columns: List[str] = []
    for row in rows:
        columns += [
            k for k in row if k not in ('model', 'member') + tuple(columns)
        ]
    accs = [c for c in columns if c == 'clean_acc' or c.endswith('/acc')]
    return accs + [c for c in columns if c not in accs]


def column_title(column: str) -> str:
    """``clean_acc → clean``, ``pgd20_linf_8/acc → pgd20_linf_8``."""
    if column == 'clean_acc':
        return 'clean'
    return column[:-len('/acc')] if column.endswith('/acc') else column


def _fmt(value, digits: int) -> str:
    if value is None or value == '':
        return '–'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def markdown_table(rows: Sequence[Dict],
                   columns: Optional[Sequence[str]] = None,
                   digits: int = 2) -> str:
    """A GitHub Markdown table: ``model`` then one column per metric
    (accuracies in percent, diagnostics as they are); ``–`` where a row
    lacks a column."""
    columns = table_columns(rows) if columns is None else list(columns)
    header = ['model'] + [column_title(c) for c in columns]
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join(['---'] + ['---:'] * len(columns)) + '|'
    ]
    for row in rows:
        cells = [str(row['model'])
                 ] + [_fmt(row.get(c), digits) for c in columns]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def csv_table(rows: Sequence[Dict],
              columns: Optional[Sequence[str]] = None) -> str:
    """CSV with a header ``model,member,<metric keys>``; full precision."""
    columns = table_columns(rows) if columns is None else list(columns)
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=['model', 'member'] + columns,
        extrasaction='ignore',
        lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, '') for k in writer.fieldnames})
    return out.getvalue()


def write_results(record: Dict,
                  out_dir: str,
                  stem: str = RESULT_STEM) -> Dict[str, str]:
    """Write ``{stem}.json`` (the whole record), ``{stem}.csv`` and
    ``{stem}.md`` (its rows) into ``out_dir``.

    Returns:
        dict[str, str]: ``json``/``csv``/``md`` ↦ path written.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {ext: osp.join(out_dir, f'{stem}.{ext}')
             for ext in ('json', 'csv', 'md')}
    with open(paths['json'], 'w') as f:
        json.dump(record, f, indent=2, default=str)
        f.write('\n')
    with open(paths['csv'], 'w') as f:
        f.write(csv_table(record['rows']))
    with open(paths['md'], 'w') as f:
        f.write(markdown_table(record['rows']))
    return paths


def report_results(record: Dict,
                   out_dir: str,
                   stem: str = RESULT_STEM) -> Dict[str, str]:
    """Log the record's table as Markdown and write it (with the record)
    by :func:`write_results`; returns the paths written."""
    paths = write_results(record, out_dir, stem)
    print_log(
        'Robust evaluation (accuracy in %):\n' +
        markdown_table(record['rows']) + f'written to {paths["md"]}, '
        f'{paths["json"]} and {paths["csv"]}',
        logger='current')
    return paths


def read_results(path: str, stem: str = RESULT_STEM) -> Dict:
    """The record of a work dir (``{path}/{stem}.json``) or JSON file."""
    if osp.isdir(path):
        path = osp.join(path, f'{stem}.json')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no robust results at {path}; run tools/test.py --robust with '
            '--work-dir first')
    with open(path) as f:
        return json.load(f)

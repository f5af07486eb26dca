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


def md_cell(value) -> str:
    r"""``value`` as the text of one Markdown table cell: ``\`` and ``|``
    escaped (``\\``, ``\|``, which render as themselves), every line
    break (``\r\n``, ``\n``, ``\r``) a space, so a cell never splits
    its row or its line."""
    text = str(value).replace('\\', '\\\\').replace('|', '\\|')
    return ' '.join(text.splitlines()) if text else text


def markdown_table(rows: Sequence[Dict],
                   columns: Optional[Sequence[str]] = None,
                   digits: int = 2) -> str:
    """A GitHub Markdown table: ``model`` then one column per metric
    (accuracies in percent, diagnostics as they are); ``–`` where a row
    lacks a column. Every cell, titles included, goes through
    :func:`md_cell`."""
    columns = table_columns(rows) if columns is None else list(columns)
    header = ['model'] + [column_title(c) for c in columns]
    lines = [
        '| ' + ' | '.join(md_cell(h) for h in header) + ' |',
        '|' + '|'.join(['---'] + ['---:'] * len(columns)) + '|'
    ]
    for row in rows:
        cells = [row['model']] + [_fmt(row.get(c), digits) for c in columns]
        lines.append('| ' + ' | '.join(md_cell(c) for c in cells) + ' |')
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


def _kind(value) -> str:
    return f'{value!r} ({type(value).__name__})'


def _check_row(row, where: str) -> None:
    if not isinstance(row, dict):
        raise ValueError(f'{where} must be an object (model, member, '
                         f'metrics), got {_kind(row)}')
    if 'model' not in row:
        raise ValueError(f"{where} has no 'model' field (the row label)")
    for key in ('model', 'member'):
        if key in row and not isinstance(row[key], str):
            raise ValueError(f'{where}.{key} must be a string, got '
                             f'{_kind(row[key])}')
    for key, value in row.items():
        if key in ('model', 'member'):
            continue
        accuracy = key == 'clean_acc' or key.endswith('/acc')
        number = isinstance(value, (int, float)) and not isinstance(
            value, bool)
        if accuracy and not (number or value is None):
            raise ValueError(f"{where}['{key}'] must be a number (an "
                             f'accuracy in %), got {_kind(value)}')
        if not (number or value is None or isinstance(value, (str, bool))):
            raise ValueError(f"{where}['{key}'] must be a number or a "
                             f'string, got {_kind(value)}')


def _check_attack(settings, where: str) -> None:
    if not isinstance(settings, dict):
        raise ValueError(f'{where} must be an object (the attack '
                         f'settings), got {_kind(settings)}')
    if not isinstance(settings.get('name'), str):
        raise ValueError(f"{where}.name must be a string (the attack's "
                         f"name), got {_kind(settings.get('name'))}")
    if 'norm' in settings and not isinstance(settings['norm'], str):
        raise ValueError(f'{where}.norm must be a string, got '
                         f"{_kind(settings['norm'])}")
    eps = settings.get('eps')
    if 'eps' in settings and (isinstance(eps, bool)
                              or not isinstance(eps, (int, float))):
        raise ValueError(f'{where}.eps must be a number, got {_kind(eps)}')


def check_record(record, source: str) -> Dict:
    """``record`` (from ``source``, named in errors) as a result record:
    an object whose ``rows`` are objects with a string ``model`` (and
    ``member``) and number (or None) accuracies, and whose ``attacks`` are
    objects with a string ``name`` (and ``norm``, number ``eps``).

    Raises:
        ValueError: Naming ``source`` and the field that cannot be read.
    """
    if not isinstance(record, dict):
        raise ValueError(
            f"{source}: expected a result record (an object with 'rows' and "
            f"'attacks'), got a {type(record).__name__}")
    for key in ('rows', 'attacks'):
        if key not in record:
            raise ValueError(
                f"{source}: the record has no '{key}' field; is it a "
                f'{RESULT_STEM}.json written by tools/test.py --robust?')
        if not isinstance(record[key], list):
            raise ValueError(f'{source}: {key} must be a list, got '
                             f'{type(record[key]).__name__}')
    for i, row in enumerate(record['rows']):
        _check_row(row, f'{source}: rows[{i}]')
    for i, settings in enumerate(record['attacks']):
        _check_attack(settings, f'{source}: attacks[{i}]')
    return record


def read_results(path: str, stem: str = RESULT_STEM) -> Dict:
    """The record of a work dir (``{path}/{stem}.json``) or JSON file,
    checked by :func:`check_record` (errors name the file and field)."""
    if osp.isdir(path):
        path = osp.join(path, f'{stem}.json')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no robust results at {path}; run tools/test.py --robust with '
            '--work-dir first')
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f'{path}: not a JSON result record ({e}); write it '
                         'again with tools/test.py --robust') from e
    return check_record(record, path)

"""Gather the robust results of several work dirs into one comparison.

Each work dir holds the ``robust_results.json`` that ``tools/test.py``
writes after a robust test. This tool joins their rows into one table
(Markdown, CSV, JSON) and draws robust accuracy against ε, one line per
model and attack family (e.g. PGD-20 L∞), clean accuracy at ε = 0, one
panel per norm.

Example::

    python tools/analysis/gather_robust_results.py \\
        work_dirs/teacher work_dirs/kd work_dirs/kdiga \\
        --names teacher KD KDIGA --out-dir work_dirs/comparison
"""
import argparse
import json
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from kdiga_mmrazor.evaluation.tables import (
    csv_table,
    markdown_table,
    read_results,
    table_columns,
)

STEM = 'robust_comparison'
NORM_TITLES = {'linf': 'L∞', 'l2': 'L2', 'l1': 'L1'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Compare the robust results of several work dirs')
    parser.add_argument(
        'work_dirs',
        nargs='+',
        help='work dirs (or robust_results.json files) of tools/test.py '
        '--robust runs')
    parser.add_argument(
        '--names',
        nargs='+',
        help='row labels, one per work dir (default: the recorded model '
        'names)')
    parser.add_argument(
        '--out-dir', required=True, help='where to write the comparison')
    parser.add_argument(
        '--no-plot', action='store_true', help='skip the ε curves')
    return parser.parse_args(argv)


def gather_rows(records: Sequence[Dict],
                names: Optional[Sequence[str]] = None) -> List[Dict]:
    """The rows of every record, relabelled with ``names`` (one per record;
    a teacher row keeps its ``(teacher)`` suffix)."""
    if names is not None and len(names) != len(records):
        raise ValueError(
            f'gather_robust_results: --names has {len(names)} labels for '
            f'{len(records)} work dirs; give one per work dir')
    rows = []
    for k, record in enumerate(records):
        for row in record['rows']:
            row = dict(row)
            if names is not None:
                suffix = '' if row.get('member', 'student') == 'student' \
                    else f" ({row['member']})"
                row['model'] = names[k] + suffix
            rows.append(row)
    return rows


def attack_family(settings: Dict) -> str:
    """``pgd20_linf_8 → 'pgd20_linf'``: the name without its ε."""
    return re.sub(r'_[^_]+$', '', settings['name'])


def curves(records: Sequence[Dict],
           names: Optional[Sequence[str]] = None) -> Dict:
    """``{norm: {label: [(ε, acc), ...]}}`` with ``label = 'model
    family'`` and the clean accuracy at ε = 0."""
    out: Dict[str, Dict[str, List]] = OrderedDict()
    rows = gather_rows(records, names)
    i = 0
    for record in records:
        n = len(record['rows'])
        record_rows, i = rows[i:i + n], i + n
        for row in record_rows:
            for settings in record['attacks']:
                acc = row.get(f"{settings['name']}/acc")
                if acc is None:
                    continue
                label = f"{row['model']} {attack_family(settings)}"
                points = out.setdefault(settings['norm'], OrderedDict())
                series = points.setdefault(label, [])
                if not series and 'clean_acc' in row:
                    series.append((0.0, row['clean_acc']))
                series.append((float(settings['eps']), acc))
    for norm in out.values():
        for label in norm:
            norm[label] = sorted(set(norm[label]))
    return out


def plot_curves(data: Dict, path: str) -> None:
    """Robust accuracy vs ε (L∞ ε in /255), one panel per norm (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(
        1, max(len(data), 1), figsize=(5.5 * max(len(data), 1), 4),
        squeeze=False)
    for ax, (norm, series) in zip(axes[0], data.items()):
        scale = 255 if norm == 'linf' else 1
        for label, points in series.items():
            xs = [e * scale for e, _ in points]
            ax.plot(xs, [a for _, a in points], marker='o', label=label)
        title = NORM_TITLES.get(norm, norm)
        ax.set_xlabel('ε (/255)' if norm == 'linf' else f'ε ({title})')
        ax.set_ylabel('accuracy (%)')
        ax.set_title(f'robust accuracy, {title}')
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> Dict[str, str]:
    args = parse_args(argv)
    records = [read_results(d) for d in args.work_dirs]
    rows = gather_rows(records, args.names)
    os.makedirs(args.out_dir, exist_ok=True)
    paths = {
        ext: osp.join(args.out_dir, f'{STEM}.{ext}')
        for ext in ('md', 'csv', 'json')
    }
    columns = table_columns(rows)
    with open(paths['md'], 'w') as f:
        f.write(markdown_table(rows, columns))
    with open(paths['csv'], 'w') as f:
        f.write(csv_table(rows, columns))
    with open(paths['json'], 'w') as f:
        json.dump(
            dict(
                rows=rows,
                sources=[
                    dict(
                        work_dir=d,
                        model=r.get('model'),
                        checkpoint=r.get('checkpoint'),
                        attacks=r.get('attacks'),
                        subset=r.get('subset'),
                        versions=r.get('versions'))
                    for d, r in zip(args.work_dirs, records)
                ]),
            f,
            indent=2)
    if not args.no_plot:
        paths['png'] = osp.join(args.out_dir, 'robust_acc_vs_eps.png')
        plot_curves(curves(records, args.names), paths['png'])
    print(markdown_table(rows, columns))
    return paths


if __name__ == '__main__':
    main()

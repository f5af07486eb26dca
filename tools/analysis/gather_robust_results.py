"""Gather the robust results of several work dirs into one comparison.

Each work dir holds the ``robust_results.json`` that ``tools/test.py``
writes after a robust test. This joins their rows into one table
(``robust_comparison.{md,csv,json}``) and draws robust accuracy against ε
(``robust_acc_vs_eps.png``), one line per model and attack family, clean
accuracy at ε = 0, one panel per norm
(:mod:`kdiga_mmrazor.evaluation.comparison`). Every file is read and
checked before anything is written: a malformed one (not JSON, not a
record, a missing or mistyped field) raises naming the file and the field.

Example::

    python tools/analysis/gather_robust_results.py \\
        work_dirs/teacher work_dirs/kd work_dirs/kdiga \\
        --names teacher KD KDIGA --out-dir work_dirs/comparison
"""
import argparse
import os.path as osp
from typing import Dict

from kdiga_mmrazor.evaluation.comparison import (
    curves,
    gather_rows,
    plot_curves,
)
from kdiga_mmrazor.evaluation.tables import (
    markdown_table,
    read_results,
    write_results,
)

STEM = 'robust_comparison'


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


def main(argv=None) -> Dict[str, str]:
    args = parse_args(argv)
    records = [read_results(d) for d in args.work_dirs]
    rows = gather_rows(records, args.names)
    sources = [
        dict(work_dir=d, **{k: r.get(k) for k in (
            'model', 'checkpoint', 'attacks', 'subset', 'versions')})
        for d, r in zip(args.work_dirs, records)
    ]
    paths = write_results(dict(rows=rows, sources=sources), args.out_dir,
                          STEM)
    if not args.no_plot:
        paths['png'] = osp.join(args.out_dir, 'robust_acc_vs_eps.png')
        plot_curves(curves(records, args.names), paths['png'])
    print(markdown_table(rows))
    return paths


if __name__ == '__main__':
    main()

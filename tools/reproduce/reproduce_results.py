"""Rerun the results document: teacher, plain KD, KDIGA and the baselines
on CIFAR-10, the γ trade-off and calibration, the diagnostics and certified
robustness, written to ``docs/results.md`` with its figures.

Budgets (:mod:`kdiga_mmrazor.reproduction.budgets`; ``--help`` lists
every number of each): ``smoke`` (a few iterations and images: checks the
pipeline in minutes), ``cpu`` (one epoch of the pre-trained and
from-scratch ResNet-20 students and a short ViT run, test subsets of
hundreds of images, no robust-distillation baselines: about an hour and a
quarter on 2 CPU cores; the document states the minutes it took),
``paper`` (every config's own schedule, the whole test set, the
baselines: GPUs). Every run is a work dir under ``--out-dir``; a
rerun resumes the finished ones. ``--sections`` runs a subset, whose
document goes to ``OUT_DIR/results.md`` unless ``--doc`` says otherwise
(``docs/results.md`` is written by full runs only).

Example::

    python tools/reproduce/reproduce_results.py --budget cpu \\
        --out-dir work_dirs/reproduce_cpu
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, REPO)

import kdiga_mmrazor  # noqa: E402,F401
from kdiga_mmrazor.reproduction import BUDGETS, reproduce, rewrite_document  # noqa: E402
from kdiga_mmrazor.reproduction.plan import SECTIONS  # noqa: E402
from kdiga_mmrazor.reproduction.runner import saved_sections  # noqa: E402

FULL_DOC = os.path.join('docs', 'results.md')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--budget', choices=sorted(BUDGETS), default='cpu',
                        help='; '.join(f'{name}: {budget.describe()}'
                                       for name, budget in BUDGETS.items()))
    parser.add_argument('--out-dir', required=True,
                        help='where the runs go (resumed when present)')
    parser.add_argument('--doc',
                        help='the document to write (its figures go to '
                        'the folder of the same stem); default: '
                        f'{FULL_DOC} when every section is in it, else '
                        'OUT_DIR/results.md, so a subset never replaces '
                        'the full document')
    parser.add_argument('--sections', nargs='+', default=list(SECTIONS),
                        choices=SECTIONS, help='a subset of the sections')
    parser.add_argument('--document-only', action='store_true',
                        help='redraw the document from --out-dir/'
                        'results.json without running anything')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    command = 'python tools/reproduce/reproduce_results.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    out_dir = os.path.abspath(args.out_dir)  # before moving to REPO
    sections = (saved_sections(out_dir) if args.document_only else
                args.sections)
    doc = os.path.abspath(args.doc or (
        FULL_DOC if set(sections) >= set(SECTIONS) else
        os.path.join(out_dir, 'results.md')))
    os.chdir(REPO)
    if args.document_only:
        results = rewrite_document(out_dir, doc)
    else:
        try:
            results = reproduce(BUDGETS[args.budget], out_dir, doc, command,
                                repo=REPO, sections=args.sections)
        except ValueError as e:  # a refused work dir or section
            raise SystemExit(f'reproduce_results: {e}') from e
    print(f'{doc} written ({results["wall_minutes"]:.0f} minutes of runs)')
    return results


if __name__ == '__main__':
    main()

"""Train and robust-test KDIGA beside the methods of the field, one table.

Same teacher (the vendored resnet4b, L∞ 2/255), same ResNet-20 student,
the same number of iterations and the same attacks for every method;
seconds per training step measured in this one run
(:mod:`kdiga_mmrazor.engine.method_comparison`). The distillation configs
share one schedule (one-cycle, the teacher's 2/255 for their attacks); the
adversarial-training rows of the ``scratch`` setting keep their own
configs' (multi-step, an 8/255 training attack).

Settings: ``pretrained`` (the student starts from the vendored standard
ResNet-20, the ``-pretrained`` configs) or ``scratch`` (the same configs
with ``model.student_ckpt=None``, plus adversarial training of the student
on its own: PGD-AT, TRADES, FGSM-RS, whose configs train from scratch).
Budgets: ``smoke`` (2 iterations, 20 images: checks the pipeline), ``cpu``
(100 iterations, PGD-20 on 500 images, AutoAttack on 50), ``paper`` (each
config's own schedule, the whole test set, AutoAttack on 1,000).
``--iters`` shortens training without rescaling a config's learning-rate
schedule.

Example::

    python tools/benchmarks/compare_methods.py --budget cpu \\
        --out-dir work_dirs/compare_cpu
    python tools/analysis/gather_robust_results.py \\
        work_dirs/compare_cpu/*/test_pgd --out-dir work_dirs/compare_cpu/eps
"""
import argparse
import dataclasses
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, REPO)

import kdiga_mmrazor  # noqa: E402,F401
from kdiga_mmrazor.engine.method_comparison import (  # noqa: E402
    ADVERSARIAL_TRAINING,
    BUDGETS,
    DISTILLATION,
    STUDENT,
    TEACHER,
    Method,
    compare,
)


def methods(setting: str, names=None):
    """The rows of the comparison for ``setting``, in table order."""
    scratch = ('model.student_ckpt=None', ) if setting == 'scratch' else ()
    rows = [TEACHER] + ([STUDENT] if setting == 'pretrained' else [])
    rows += [Method(n, c, options=scratch) for n, c in DISTILLATION.items()]
    if setting == 'scratch':  # their configs train a ResNet-20 from scratch
        rows += [Method(n, c) for n, c in ADVERSARIAL_TRAINING.items()]
    if names:
        unknown = set(names) - {m.name for m in rows}
        if unknown:
            raise SystemExit(f'--methods: unknown {sorted(unknown)}; choose '
                             f'from {[m.name for m in rows]}')
        rows = [m for m in rows if m.name in names]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--budget', choices=sorted(BUDGETS), default='cpu')
    parser.add_argument('--setting', choices=['pretrained', 'scratch'],
                        default='pretrained')
    parser.add_argument('--methods', nargs='+', help='a subset, by row name')
    parser.add_argument('--iters', type=int,
                        help="override the budget's training iterations")
    parser.add_argument('--aa-samples', type=int,
                        help="override the budget's AutoAttack subset (0: "
                        'skip AutoAttack)')
    parser.add_argument('--seed', type=int, default=0,
                        help='randomness.seed of every training run')
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args(argv)
    args.out_dir = os.path.abspath(args.out_dir)  # before moving to REPO
    os.chdir(REPO)
    budget = BUDGETS[args.budget]
    overrides = dict(iters=args.iters, aa_samples=args.aa_samples,
                     seed=args.seed)
    budget = dataclasses.replace(
        budget, **{k: v for k, v in overrides.items() if v is not None})
    result = compare(methods(args.setting, args.methods), args.out_dir,
                     budget)
    print(f'{args.setting}, budget {args.budget}:\n{result["table"]}')
    return result


if __name__ == '__main__':
    main()

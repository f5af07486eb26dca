"""Train and robust-test KDIGA beside the methods of the field, one table.

Same teacher (the vendored resnet4b, L∞ 2/255), same ResNet-20 student,
the same number of iterations and the same attacks for every method;
seconds per training step measured in this one run
(:mod:`kdiga_mmrazor.engine.method_comparison`). The distillation configs
of a setting share one schedule and the teacher's 2/255 for their attacks;
the adversarial-training rows of the ``scratch`` setting (and their
standard-trained twin) train on the same 200-epoch schedule with an 8/255
training attack.

Settings: ``pretrained`` (the student starts from the vendored standard
ResNet-20: the ``-pretrained`` configs, a one-epoch one-cycle schedule) or
``scratch`` (the from-scratch configs, 200 epochs of SGD, plus the
student's adversarial training on its own: PGD-AT, TRADES, FGSM-RS, and
its standard-trained twin). Budgets: ``smoke`` (2 iterations, 20 images:
checks the pipeline), ``cpu`` (100 iterations, PGD-20 on 500 images,
AutoAttack on 50), ``paper`` (each config's own schedule, the whole test
set, AutoAttack on 1,000). A budget (or ``--iters``) shorter than a
config's run fits its learning-rate schedule and IAD's warm-up into it
(:mod:`kdiga_mmrazor.engine.schedule_fitting`).

Writes ``OUT_DIR/comparison.md`` (the table) and
``OUT_DIR/robust_acc_vs_eps.png`` (robust accuracy against ε of every
method, from its robust records, as ``gather_robust_results.py`` draws
them).

Example::

    python tools/benchmarks/compare_methods.py --budget cpu \\
        --out-dir work_dirs/compare_cpu
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
    DISTILLATION_SCRATCH,
    STANDARD_TRAINING,
    STUDENT,
    TEACHER,
    Method,
    compare,
    plot_eps_curves,
)


def methods(setting: str, names=None):
    """The rows of the comparison for ``setting``, in table order."""
    if setting == 'pretrained':
        rows = [TEACHER, STUDENT]
        rows += [Method(n, c) for n, c in DISTILLATION.items()]
    else:  # from scratch, with the student's own adversarial training
        rows = [TEACHER]
        rows += [Method(n, c) for n, c in DISTILLATION_SCRATCH.items()]
        rows += [STANDARD_TRAINING]
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
    try:
        result = compare(methods(args.setting, args.methods), args.out_dir,
                         budget)
    except ValueError as e:  # a refused work dir or attack name
        raise SystemExit(f'compare_methods: {e}') from e
    curves = plot_eps_curves(result['records'],
                             os.path.join(args.out_dir,
                                          'robust_acc_vs_eps.png'))
    print(f'{args.setting}, budget {args.budget}:\n{result["table"]}\n'
          f'robust accuracy against ε: {curves}')
    return result


if __name__ == '__main__':
    main()

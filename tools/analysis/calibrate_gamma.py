"""Choose KDIGA's γ for a clean-accuracy budget, from a short sweep.

Trains CONFIG for ``--iters`` iterations at γ = 0 (plain KD, the
reference) and at every γ of a geometric grid (``--gamma-min``,
``--gamma-max``, ``--num``; or ``--gammas``), each in its own MMEngine work
dir ``{work_dir}/gamma_{γ:g}``, robust-tests each student on a fixed
class-balanced subset (``--num-samples`` images, clean and ``--attack``),
fits clean accuracy as a non-increasing function of log γ and reports the
largest γ whose fitted clean accuracy stays within ``--max-clean-drop``
points of plain KD's (:mod:`kdiga_mmrazor.engine.gamma_calibration`).
The config's learning-rate schedule (and iteration-counted settings
such as IAD's warm-up) is fitted into the shorter run
(:mod:`kdiga_mmrazor.engine.schedule_fitting`). Prints the table, the
chosen γ and the ``--cfg-options`` line that trains with it; writes
``gamma_calibration.{md,json,png}`` into the work dir. Runs resume:
rerunning the same command reruns only what is missing; a work dir of
other settings is refused. Exits 1 when no γ tried is within the drop.

Example::

    python tools/analysis/calibrate_gamma.py \\
        configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py \\
        --max-clean-drop 5 --iters 100 --num-samples 500
    python tools/train.py \\
        configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py \\
        --cfg-options model.distiller.distill_losses.loss_iga.loss_weight=0.1
"""
import argparse
import os
import os.path as osp
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, REPO)

import kdiga_mmrazor  # noqa: E402,F401
from kdiga_mmrazor.engine.gamma_calibration import (  # noqa: E402
    ATTACK,
    Sweep,
    calibrate,
    calibration_table,
    format_gamma,
    geometric_grid,
)
from kdiga_mmrazor.engine.method_comparison import ROBUST_EVAL, run_command  # noqa: E402

GRID = dict(gamma_min=0.01, gamma_max=1.0, num=5)


def repo_path(path: str, option: str) -> str:
    """``path`` (from the working directory, else from the repository
    root) as the runs see it: relative to the root when inside it."""
    found = [p for p in (osp.abspath(path), osp.join(REPO, path))
             if osp.isfile(p)]
    if not found:
        raise SystemExit(f'calibrate_gamma: {option}: no file {path}')
    relative = osp.relpath(found[0], REPO)
    return found[0] if relative.startswith('..') else relative


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a KDIGA config')
    parser.add_argument('--max-clean-drop', type=float, required=True,
                        metavar='P', help='clean accuracy points below '
                        "plain KD's that γ may cost")
    parser.add_argument('--gamma-min', type=float,
                        help=f"the grid's smallest γ ({GRID['gamma_min']})")
    parser.add_argument('--gamma-max', type=float,
                        help=f"the grid's largest γ ({GRID['gamma_max']})")
    parser.add_argument('--num', type=int,
                        help=f"γ in the grid ({GRID['num']})")
    parser.add_argument('--gammas', type=float, nargs='+',
                        help='these γ instead of a geometric grid')
    parser.add_argument('--iters', type=int, default=100,
                        help='training iterations of every run')
    parser.add_argument('--num-samples', type=int, default=500,
                        help='size of the fixed test subset')
    parser.add_argument('--attack', default=ATTACK,
                        help='the attack of the robust-eval file to test')
    parser.add_argument('--robust-eval', default=ROBUST_EVAL,
                        help='the robust_eval file that defines --attack')
    parser.add_argument('--seed', type=int, default=0,
                        help='randomness.seed of every run (the same seed '
                        'for every γ, so the runs differ by γ alone)')
    parser.add_argument('--work-dir', help='default: work_dirs/'
                        'calibrate_gamma/<config name>')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='config overrides for every run')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    grid = {k: getattr(args, k) for k in GRID}
    if args.gammas and any(v is not None for v in grid.values()):
        raise SystemExit('calibrate_gamma: give --gammas or --gamma-min/'
                         '--gamma-max/--num, not both')
    bad = [o for o in args.cfg_options if '=' not in o]
    if bad:
        raise SystemExit(f'calibrate_gamma: --cfg-options takes KEY=VALUE '
                         f'pairs, got {bad}')
    stem = osp.splitext(osp.basename(args.config))[0]
    work_dir = osp.abspath(args.work_dir or osp.join(
        'work_dirs', 'calibrate_gamma', stem))  # before moving to REPO
    config = repo_path(args.config, 'CONFIG')
    robust_eval = repo_path(args.robust_eval, '--robust-eval')
    os.chdir(REPO)  # the runs call tools/train.py and tools/test.py
    try:
        gammas = args.gammas or geometric_grid(**{
            k: GRID[k] if v is None else v for k, v in grid.items()})
        sweep = Sweep(config, gammas, iters=args.iters,
                      num_samples=args.num_samples, attack=args.attack,
                      robust_eval=robust_eval,
                      cfg_options=tuple(args.cfg_options),
                      seed=args.seed)
        result, paths = calibrate(sweep, work_dir, args.max_clean_drop,
                                  run=run_command)
    except ValueError as e:
        raise SystemExit(f'calibrate_gamma: {e}') from e
    print(calibration_table(result))
    print(result.message)
    if result.gamma is not None:
        print(f'chosen γ = {format_gamma(result.gamma)}: expected clean '
              f'{result.expected_clean:.2f}, {result.attack} '
              f'{result.expected_robust:.2f}\n{result.cfg_options}')
    print('written: ' + ', '.join(paths.values()))
    return result


if __name__ == '__main__':
    sys.exit(0 if main().gamma is not None else 1)

"""Test a checkpoint: accuracy (and, with a robust test loop, robustness).

The command line of MMPretrain/MMRazor's ``tools/test.py``. The checkpoint is
loaded strictly (every key and shape checked, sha256 logged, never
unpickled unsafely); a bare backbone checkpoint (third-party weights whose
names mirror a registered backbone) loads into a classifier too.

Robust evaluation: ``--robust`` switches the test loop to ``RobustTestLoop``
with the config's ``robust_eval`` (a ``configs/_base_/robust_eval/`` piece in
its ``_base_``), or with the ``robust_eval`` of the file given to it; a
config whose ``test_cfg`` already is a ``RobustTestLoop`` needs no flag.
After a robust test ``RobustResultsHook`` (added when the config has none)
logs the table (model, clean, each attack) as Markdown and writes it with
the full record (attack settings, subset, versions, checkpoint sha256) to
``{work_dir}/robust_results.{md,json,csv}``.
``tools/analysis/gather_robust_results.py`` compares several work dirs.

Example::

    python tools/test.py configs/resnet4b_cifar10.py \\
        checkpoints/abcrown_resnet4b_linf2.pth \\
        --robust configs/_base_/robust_eval/cifar10_linf_2.py \\
        --num-samples 1000 --attacks pgd20_linf_2 \\
        --work-dir work_dirs/teacher_robust
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

import kdiga_mmrazor  # noqa: F401  (compat layer before mmrazor)
from kdiga_mmrazor.checkpoint import load_state_dict_checked
from kdiga_mmrazor.engine import (
    add_runner_args,
    build_runner,
    closing_process_group,
    load_config,
    prepare_config,
)
from kdiga_mmrazor.evaluation import apply_robust_options, teacher_alone
from kdiga_mmrazor.evaluation.hooks import CHECKPOINT_INFO
from kdiga_mmrazor.evaluation.robust_test_options import (
    configured_attack_names,
)
from kdiga_mmrazor.utils import unwrap_model


def attacks_help(argv) -> str:
    """``--attacks``' help, with the names the given config defines when
    ``--help`` follows a config path."""
    text = ('keep only these of the configured attacks (by metric name, '
            'e.g. pgd20_linf_8)')
    if argv and osp.isfile(argv[0]) and {'-h', '--help'} & set(argv):
        names = configured_attack_names(load_config(argv[0]))
        text += '; this config defines: ' + ('; '.join(
            f'{where}: {", ".join(n)}' for where, n in names.items())
                                           or 'none')
    return text


def parse_args(argv=None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the metrics to this pickle-free JSON file')
    parser.add_argument(
        '--robust',
        nargs='?',
        const=True,
        default=False,
        metavar='ROBUST_EVAL_FILE',
        help='test with RobustTestLoop using the config\'s robust_eval, or '
        'the robust_eval defined in ROBUST_EVAL_FILE (e.g. '
        'configs/_base_/robust_eval/cifar10_linf_8.py)')
    parser.add_argument(
        '--num-samples',
        type=int,
        help='robust test on a fixed seeded subset of this many samples')
    parser.add_argument(
        '--attacks',
        nargs='+',
        metavar='NAME',
        help=attacks_help(argv))
    parser.add_argument(
        '--evaluate-teacher',
        action='store_true',
        help='robust test the teacher of a distillation model too')
    parser.add_argument(
        '--teacher',
        action='store_true',
        help='test the teacher of a distillation config alone (its '
        'model.teacher with its own normalisation; CHECKPOINT holds the '
        'teacher\'s weights, a bare backbone checkpoint included)')
    parser.add_argument(
        '--model-name',
        help='row label of the robust result table (default: the config '
        'file name)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def robust_test_options(args: argparse.Namespace):
    """Load the checkpoint strictly below (not by the runner's non-strict
    ``load_from``), and apply the robust-test flags."""

    def edit(cfg: Config) -> Config:
        cfg.load_from = None
        cfg.resume = False
        if args.teacher:
            cfg = teacher_alone(cfg, args.config)
        cfg = apply_robust_options(
            cfg,
            robust=args.robust,
            num_samples=args.num_samples,
            attacks=args.attacks,
            evaluate_teacher=args.evaluate_teacher)
        hooks = list(cfg.get('custom_hooks', []))
        results = [h for h in hooks if h.get('type') == 'RobustResultsHook']
        if not results:  # the table of every robust test
            hooks.append(dict(type='RobustResultsHook'))
            results = hooks[-1:]
        if args.model_name:
            results[0]['model_name'] = args.model_name
        cfg.custom_hooks = hooks
        return cfg

    return edit


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = prepare_config(
        load_config(args.config), args, edit=robust_test_options(args))
    with closing_process_group():
        runner = build_runner(cfg)
        sha256 = load_state_dict_checked(
            unwrap_model(runner.model),
            args.checkpoint,
            who='tools/test.py: checkpoint',
            prefixes=('', 'backbone.'),
            hint='is it a checkpoint of this config\'s model?')
        runner.message_hub.update_info(
            CHECKPOINT_INFO, dict(path=args.checkpoint, sha256=sha256))
        metrics = runner.test()
    if args.out:
        import json
        with open(args.out, 'w') as f:
            json.dump({k: float(v) if hasattr(v, '__float__') else v
                       for k, v in metrics.items()}, f, indent=2)


if __name__ == '__main__':
    main()

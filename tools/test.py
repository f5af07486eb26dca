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

from mmengine.config import Config

import kdiga_mmrazor  # noqa: F401  (compat layer before mmrazor)
from kdiga_mmrazor.checkpoint import load_state_dict_checked
from kdiga_mmrazor.engine import add_runner_args, build_runner, prepare_config
from kdiga_mmrazor.evaluation import apply_robust_options
from kdiga_mmrazor.evaluation.hooks import CHECKPOINT_INFO
from kdiga_mmrazor.utils import unwrap_model


def parse_args(argv=None) -> argparse.Namespace:
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
        help='keep only these of the configured attacks (by metric name, '
        'e.g. pgd20_linf_8)')
    parser.add_argument(
        '--evaluate-teacher',
        action='store_true',
        help='robust test the teacher of a distillation model too')
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
        Config.fromfile(args.config), args, edit=robust_test_options(args))
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

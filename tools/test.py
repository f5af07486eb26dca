"""Test a checkpoint: accuracy (and, with a robust test loop, robustness).

The command line of MMPretrain/MMRazor's ``tools/test.py``. The checkpoint is
loaded strictly (every key and shape checked, sha256 logged, never
unpickled unsafely); a bare backbone checkpoint (third-party weights whose
names mirror a registered backbone) loads into a classifier too.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import kdiga_mmrazor  # noqa: F401  (compat layer before mmrazor)
from kdiga_mmrazor.utils import load_state_dict_checked, unwrap_model
from kdiga_mmrazor.utils.cifar10_folder import ENV_VAR, use_cifar10_folder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--out', help='dump the metrics to this pickle-free JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command line into the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # Loaded strictly below, not by the runner's non-strict load_from.
    cfg.load_from = None
    cfg.resume = False
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if os.environ.get(ENV_VAR):
        cfg = use_cifar10_folder(cfg, os.environ[ENV_VAR])
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    load_state_dict_checked(
        unwrap_model(runner.model),
        args.checkpoint,
        who='tools/test.py: checkpoint',
        prefixes=('', 'backbone.'),
        hint='is it a checkpoint of this config\'s model?')
    metrics = runner.test()
    if args.out:
        import json
        with open(args.out, 'w') as f:
            json.dump({k: float(v) if hasattr(v, '__float__') else v
                       for k, v in metrics.items()}, f, indent=2)


if __name__ == '__main__':
    main()

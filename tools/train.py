"""Train a model (plain MMPretrain, MMRazor KD or KDIGA) from a config.

The command line of MMPretrain/MMRazor's ``tools/train.py``. Imports
``kdiga_mmrazor`` first (its torch >= 2 compatibility layer and safe
checkpoint loading), so configs run even without ``custom_imports``.
"""
import argparse

from mmengine.config import Config

import kdiga_mmrazor  # noqa: F401  (compat layer before mmrazor)
from kdiga_mmrazor.engine import (
    add_runner_args,
    build_runner,
    closing_process_group,
    load_config,
    prepare_config,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by actual / base batch size')
    add_runner_args(parser, 'the dir to save logs and models')
    return parser.parse_args(argv)


def training_options(args: argparse.Namespace):
    """``--no-validate``, ``--amp``, ``--resume``, ``--auto-scale-lr``."""

    def edit(cfg: Config) -> Config:
        if args.no_validate:
            cfg.val_cfg = None
            cfg.val_dataloader = None
            cfg.val_evaluator = None
        if args.amp:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if args.resume == 'auto':
            cfg.resume = True
            cfg.load_from = None
        elif args.resume is not None:
            cfg.resume = True
            cfg.load_from = args.resume
        if args.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        return cfg

    return edit


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = prepare_config(
        load_config(args.config), args, edit=training_options(args))
    with closing_process_group():
        build_runner(cfg).train()


if __name__ == '__main__':
    main()

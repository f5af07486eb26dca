"""The command line every tool shares, merged into a config.

``tools/train.py`` and ``tools/test.py`` add their own flags, then
:func:`add_runner_args` adds MMPretrain/MMRazor's common ones
(``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``), and
:func:`prepare_config` applies them in MMPretrain's order: launcher and
work dir, the tool's own edits, ``--cfg-options`` last (so they win), then
the CIFAR-10 image-folder reading (the folders found at a dataset's
``data_root``, or ``KDIGA_CIFAR10_FOLDER``) and DDP on CPU.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Callable, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..compat import cpu_ddp_cfg
from ..datasets.cifar10_folder import (
    ENV_VAR,
    use_cifar10_folder,
    use_cifar10_folders_found,
)
from .config_checks import refusing_partial_model_replacement


def load_config(path: str) -> Config:
    """``Config.fromfile`` with the working directory on ``sys.path`` first
    (as ``python -m`` and the dist scripts have it), so that
    ``custom_imports`` find a user's own modules, and a teacher or student
    replaced by another type never merged with its base's keys
    (:func:`~kdiga_mmrazor.engine.config_checks.check_model_replacement`).
    """
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    with refusing_partial_model_replacement():
        return Config.fromfile(path)


def add_runner_args(parser: argparse.ArgumentParser,
                    work_dir_help: str = 'the dir to save logs and results'
                    ) -> argparse.ArgumentParser:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank`` (also read from ``LOCAL_RANK`` by the launcher)."""
    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs (e.g. '
        'train_cfg.max_iters=200 model.teacher_ckpt=PATH)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def prepare_config(cfg: Config,
                   args: argparse.Namespace,
                   edit: Optional[Callable[[Config], Config]] = None
                   ) -> Config:
    """Merge the common arguments (and a tool's ``edit``) into ``cfg``.

    The work dir defaults to ``./work_dirs/{config name}``.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if edit is not None:
        cfg = edit(cfg)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if os.environ.get(ENV_VAR):
        cfg = use_cifar10_folder(cfg, os.environ[ENV_VAR])
    else:
        cfg = use_cifar10_folders_found(cfg)
    return cpu_ddp_cfg(cfg)


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type`` if it names one, else MMEngine's
    ``Runner``."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)

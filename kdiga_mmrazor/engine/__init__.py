"""What the command-line tools share: the common MMEngine arguments and the
config preparation around them (work dir, launcher, ``--cfg-options``, the
CIFAR-10 image folder, DDP without a GPU), building the runner, and the
training hooks every config of the plugin runs (``hooks``), and the
process group destroyed at the end of a distributed run."""
from .hooks import CheckpointDigestHook, DivergenceError, DivergenceGuardHook
from .process_group import closing_process_group
from .runner_args import (
    add_runner_args,
    build_runner,
    load_config,
    prepare_config,
)

__all__ = [
    'CheckpointDigestHook', 'DivergenceError', 'DivergenceGuardHook',
    'add_runner_args', 'closing_process_group',
    'build_runner', 'load_config', 'prepare_config'
]

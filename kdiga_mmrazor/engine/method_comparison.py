"""Train and robust-test several methods on one budget, in one table.

Every method is a config: it is trained with ``tools/train.py`` for the
budget's iterations (validation off; one checkpoint at the end, or the
config's own schedule and checkpoints; the learning-rate schedule is the
config's, not rescaled to a shorter run), its
student is robust-tested with ``tools/test.py --robust`` (PGD-20 at each
ε on a fixed class-balanced subset, AutoAttack on a smaller one), and the
seconds per training step of every method are measured in this one
process, interleaved on one batch (:mod:`.step_timing`). Models that are
only evaluated (the teacher, the student before distillation) have a
checkpoint instead of training.

The table has one row per method: clean and robust accuracy, seconds per
step and their ratio to plain KD's; the robust results of each method stay
in its work dir (``robust_results.{md,json,csv}``), so the gather tool
draws the ε-curves from them.
"""
import os
import os.path as osp
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

from ..evaluation.tables import markdown_table, read_results
from .step_timing import time_configs

ROBUST_EVAL = 'configs/_base_/robust_eval/cifar10_linf_2_8.py'
PGD_ATTACKS = ('pgd20_linf_2', 'pgd20_linf_8')
AUTOATTACK = 'autoattack_standard_linf_2'


@dataclass(frozen=True)
class Budget:
    """How long each method trains and how much it is tested.

    ``iters=None`` keeps each config's own schedule; ``pgd_samples`` is
    the size of the fixed class-balanced test subset (10,000: the whole
    CIFAR-10 test set); ``aa_samples=0`` skips AutoAttack.
    """
    iters: Optional[int]
    pgd_samples: int
    aa_samples: int
    timing_repeats: int
    batch_size: Optional[int] = None  # None: the config's own


BUDGETS = {
    'smoke': Budget(iters=2, pgd_samples=20, aa_samples=0, timing_repeats=1,
                    batch_size=8),
    'cpu': Budget(iters=100, pgd_samples=500, aa_samples=50,
                  timing_repeats=3),
    'paper': Budget(iters=None, pgd_samples=10000, aa_samples=1000,
                    timing_repeats=10),
}


@dataclass(frozen=True)
class Method:
    """One row: a config, trained unless it comes with a checkpoint."""
    name: str
    config: str
    checkpoint: Optional[str] = None
    options: Sequence[str] = field(default_factory=tuple)

    @property
    def trained(self) -> bool:
        return self.checkpoint is None


def train_command(method: Method, work_dir: str, budget: Budget) -> List[str]:
    """``tools/train.py`` for the budget: no validation, one checkpoint."""
    options = list(method.options) + ['train_cfg.val_begin=100000000']
    if budget.iters is not None:
        options += [
            f'train_cfg.max_iters={budget.iters}',
            f'default_hooks.checkpoint.interval={budget.iters}'
        ]
    if budget.batch_size is not None:
        options.append(f'train_dataloader.batch_size={budget.batch_size}')
    return [sys.executable, 'tools/train.py', method.config, '--work-dir',
            work_dir, '--cfg-options'] + options


def test_command(method: Method, checkpoint: str, work_dir: str,
                 attacks: Sequence[str],
                 num_samples: Optional[int]) -> List[str]:
    """``tools/test.py --robust`` of the student on some attacks."""
    command = [
        sys.executable, 'tools/test.py', method.config, checkpoint,
        '--robust', ROBUST_EVAL, '--attacks', *attacks, '--work-dir',
        work_dir, '--model-name', method.name
    ]
    if num_samples is not None:
        command += ['--num-samples', str(num_samples)]
    if method.options:
        command += ['--cfg-options', *method.options]
    return command


def run_command(command: List[str], log_path: str) -> None:
    """Run a tool, its output to ``log_path``; a failure names the log and
    shows its end."""
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    with open(log_path, 'w') as log:
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ)).returncode
    if code:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        raise RuntimeError(f'{" ".join(command)} exited {code}; log '
                           f'{log_path}:\n{tail}')


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine recorded last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def student_row(name: str, records: Sequence[Dict]) -> Dict:
    """The student's metrics of several robust tests, merged."""
    row = dict(model=name)
    for record in records:
        for result in record['rows']:
            if result.get('member', 'student') == 'student':
                row.update({k: v for k, v in result.items()
                            if k not in ('model', 'member')})
    return row


def compare(methods: Sequence[Method],
            out_dir: str,
            budget: Budget,
            run: Callable[[List[str], str], None] = run_command,
            time_steps: Callable[..., Dict[str, float]] = time_configs
            ) -> Dict:
    """Train, test and time every method; write ``comparison.md``.

    Returns:
        dict: ``rows`` (one per method) and ``seconds`` per step.
    """
    rows, trained = [], {}
    for method in methods:
        work_dir = osp.join(out_dir, method.name)
        checkpoint = method.checkpoint
        if method.trained:
            run(train_command(method, work_dir, budget),
                osp.join(work_dir, 'train.log'))
            checkpoint = last_checkpoint(work_dir)
            trained[method.name] = Config.fromfile(method.config)
        tests = [('pgd', PGD_ATTACKS, budget.pgd_samples)]
        if budget.aa_samples:
            tests.append(('autoattack', (AUTOATTACK, ), budget.aa_samples))
        records = []
        for kind, attacks, samples in tests:
            test_dir = osp.join(work_dir, f'test_{kind}')
            run(test_command(method, checkpoint, test_dir, attacks, samples),
                osp.join(test_dir, 'test.log'))
            records.append(read_results(test_dir))
        rows.append(student_row(method.name, records))
    seconds = time_steps(trained, repeats=budget.timing_repeats,
                         batch_size=budget.batch_size or 128)
    base = seconds.get('KD')
    for row in rows:
        if row['model'] in seconds:
            row['s/step'] = seconds[row['model']]
            row['× KD'] = seconds[row['model']] / base if base else None
    columns = ['clean_acc'] + [f'{a}/acc' for a in PGD_ATTACKS] + (
        [f'{AUTOATTACK}/acc'] if budget.aa_samples else []) + [
            's/step', '× KD']
    table = markdown_table(rows, columns)
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'comparison.md'), 'w') as f:
        f.write(table)
    return dict(rows=rows, seconds=seconds, table=table)

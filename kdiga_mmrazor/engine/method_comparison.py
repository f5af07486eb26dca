"""Train and robust-test several methods on one budget, in one table.

Every method is a config: it is trained with ``tools/train.py`` for the
budget's iterations (validation off; one checkpoint at the end, the
config's learning-rate schedule fitted into them; or the config's own
schedule and checkpoints), its
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

Runs resume: a method whose work dir already holds its final checkpoint
is not trained again, and a test whose ``robust_results.json`` records
the same checkpoint (by content, so a moved out-dir still resumes),
attacks and subset size is not rerun (delete the work dir to redo one).
Each work dir records what its results depend on (``SETTINGS``: the
config, its content's digest and the training ``--cfg-options``; a test's
robust-eval file, attacks, subset and options): a trained work dir
recorded with other settings, or holding files but no record, is refused
before anything runs, and a test recorded with other settings is run
again.
"""
import os
import os.path as osp
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

from ..attacks.builder import attack_names
from ..evaluation.tables import markdown_table, read_results
from .run_records import (
    check_recorded_run,
    config_digest,
    finished_test,
    last_checkpoint,
    record_settings,
    trained_checkpoint,
)
from .schedule_fitting import fitted_schedule_options
from .step_timing import time_configs

ROBUST_EVAL = 'configs/_base_/robust_eval/cifar10_linf_2_8.py'
PGD_ATTACKS = ('pgd20_linf_2', 'pgd20_linf_8')
AUTOATTACK = 'autoattack_linf_2'


@dataclass(frozen=True)
class Budget:
    """How long each method trains and how much it is tested.

    ``iters=None`` keeps each config's own schedule; ``pgd_samples`` is
    the size of the fixed class-balanced test subset (10,000: the whole
    CIFAR-10 test set); ``aa_samples=0`` skips AutoAttack. ``seed`` is
    every training run's ``randomness.seed`` (the configs leave it unset,
    i.e. a new seed per run; None keeps that); a method's own options
    come after it and can replace it. ``fit_schedule``: a run of other
    length than its config's fits the config's learning-rate schedule
    and iteration-counted settings (IAD's warm-up) into ``iters``
    (:mod:`.schedule_fitting`); False runs the first ``iters`` of the
    config's own schedule.
    """
    iters: Optional[int]
    pgd_samples: int
    aa_samples: int
    timing_repeats: int
    batch_size: Optional[int] = None  # None: the config's own
    seed: Optional[int] = 0
    fit_schedule: bool = True


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


# The rows of the comparisons (paths relative to the repository root).
TEACHER = Method('teacher (resnet4b)', 'configs/resnet4b_cifar10.py',
                 checkpoint='checkpoints/abcrown_resnet4b_linf2.pth')
STUDENT = Method('student before (ResNet-20)', 'configs/resnet20_cifar10.py',
                 checkpoint='checkpoints/akamaster_resnet20.th')
DISTILLATION = {
    'KD': 'configs/kd_resnet4b_resnet20_cifar10-pretrained.py',
    'KDIGA': 'configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py',
    'ARD': 'configs/ard_resnet4b_resnet20_cifar10-pretrained.py',
    'RSLAD': 'configs/rslad_resnet4b_resnet20_cifar10-pretrained.py',
    'IAD': 'configs/iad_resnet4b_resnet20_cifar10-pretrained.py',
    'AdaAD': 'configs/adaad_resnet4b_resnet20_cifar10-pretrained.py',
    'ARD+IGDM': 'configs/ard-igdm_resnet4b_resnet20_cifar10-pretrained.py',
    'KDIGA+ARD': 'configs/kdiga-ard_resnet4b_resnet20_cifar10-pretrained.py',
}
# The same methods training the ResNet-20 from scratch, on the from-scratch
# KDIGA config's 200-epoch schedule (fitted into a shorter budget).
DISTILLATION_SCRATCH = {
    name: config.replace('-pretrained.py', '.py')
    for name, config in DISTILLATION.items()
}
STANDARD_TRAINING = Method('standard training (no attack)',
                           'configs/adversarial/standard_resnet20_cifar10.py')
ADVERSARIAL_TRAINING = {
    'PGD-AT': 'configs/adversarial/pgd-at_resnet20_cifar10.py',
    'TRADES': 'configs/adversarial/trades_resnet20_cifar10.py',
    'FGSM-RS': 'configs/adversarial/fgsm-rs_resnet20_cifar10.py',
}


@dataclass(frozen=True)
class TestSpec:
    """One robust test of every method: the attacks (metric names) of a
    robust-eval file, on a fixed class-balanced subset, with extra
    ``--cfg-options`` (e.g. diagnostics or a certification setting).
    Its results go to ``{method work dir}/test_{kind}``."""
    kind: str
    attacks: Sequence[str]
    num_samples: Optional[int]
    robust_eval: str = ROBUST_EVAL
    options: Sequence[str] = field(default_factory=tuple)


def default_tests(budget: Budget) -> List[TestSpec]:
    """PGD-20 at 2/255 and 8/255 on ``pgd_samples`` images, AutoAttack at
    2/255 on ``aa_samples`` (none when 0)."""
    tests = [TestSpec('pgd', PGD_ATTACKS, budget.pgd_samples)]
    if budget.aa_samples:
        tests.append(TestSpec('autoattack', (AUTOATTACK, ),
                              budget.aa_samples))
    return tests


def train_command(method: Method, work_dir: str, budget: Budget) -> List[str]:
    """``tools/train.py`` for the budget: seeded, no validation, one
    checkpoint."""
    options = [] if budget.seed is None else [f'randomness.seed={budget.seed}']
    if budget.iters is not None and budget.fit_schedule:
        cfg = Config.fromfile(method.config)
        if (cfg.get('train_cfg') or {}).get('max_iters') != budget.iters:
            options += fitted_schedule_options(cfg, budget.iters)
    options += list(method.options) + ['train_cfg.val_begin=100000000']
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
                 num_samples: Optional[int],
                 robust_eval: str = ROBUST_EVAL,
                 options: Sequence[str] = ()) -> List[str]:
    """``tools/test.py --robust`` of the student on some attacks of
    ``robust_eval`` (all of them when ``attacks`` is empty)."""
    command = [
        sys.executable, 'tools/test.py', method.config, checkpoint,
        '--robust', robust_eval
    ]
    if attacks:
        command += ['--attacks', *attacks]
    command += ['--work-dir', work_dir, '--model-name', method.name]
    if num_samples is not None:
        command += ['--num-samples', str(num_samples)]
    options = list(method.options) + list(options)
    if options:
        command += ['--cfg-options', *options]
    return command


def train_settings(method: Method, budget: Budget) -> Dict:
    """What a trained method's weights depend on: its config (path and
    content) and the ``--cfg-options`` of its training (seed, iterations,
    batch size, the fitted schedule, the method's own options)."""
    command = train_command(method, '', budget)
    return dict(config=method.config,
                config_sha256=config_digest(method.config),
                cfg_options=command[command.index('--cfg-options') + 1:])


def test_settings(method: Method, spec: TestSpec) -> Dict:
    """What a robust test's record depends on beside the checkpoint: the
    robust-eval file and the method's config by path and content (an
    edited attack setting, subset seed, test pipeline or normalisation
    reruns the test, for a checkpoint-only row as well), the attacks, the
    subset size and the ``--cfg-options``."""
    return dict(robust_eval=spec.robust_eval,
                robust_eval_sha256=config_digest(spec.robust_eval),
                config=method.config,
                config_sha256=config_digest(method.config),
                attacks=list(spec.attacks), num_samples=spec.num_samples,
                cfg_options=list(method.options) + list(spec.options))


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


def check_test_attacks(robust_eval: str = ROBUST_EVAL,
                       names: Sequence[str] = PGD_ATTACKS + (AUTOATTACK, )
                       ) -> None:
    """Refuse, before anything trains, attack names the robust-eval file
    does not configure."""
    configured = attack_names(
        list(Config.fromfile(robust_eval).robust_eval.get('attacks', [])),
        robust_eval)
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ValueError(f'method comparison: {unknown} not among the '
                         f'attacks of {robust_eval}: {configured}')


def final_checkpoint_name(cfg: Config, iters: Optional[int]) -> Optional[str]:
    """``iter_{iters}.pth`` for the budget's iterations, else the name of
    the config's own last checkpoint (``iter_{max_iters}.pth`` or
    ``epoch_{max_epochs}.pth``); None when the config states neither."""
    train_cfg = cfg.get('train_cfg') or {}
    if iters is None and train_cfg.get('max_iters'):
        iters = train_cfg['max_iters']
    if iters is not None:
        return f'iter_{iters}.pth'
    if train_cfg.get('max_epochs'):
        return f'epoch_{train_cfg["max_epochs"]}.pth'
    return None


def student_row(name: str, records: Sequence[Dict]) -> Dict:
    """The student's metrics of several robust tests, merged; a key
    several tests report (``clean_acc``) keeps the first test's value
    (the largest subset comes first)."""
    row = dict(model=name)
    for record in records:
        for result in record['rows']:
            if result.get('member', 'student') == 'student':
                for key, value in result.items():
                    if key not in ('model', 'member'):
                        row.setdefault(key, value)
    return row


def plot_eps_curves(records: Dict[str, Dict[str, Dict]], path: str) -> str:
    """Robust accuracy against ε of every method, one line per method and
    attack family (clean accuracy at ε = 0), drawn from ``compare``'s
    ``records`` (method ↦ test kind ↦ robust record) as
    ``tools/analysis/gather_robust_results.py`` draws work dirs
    (:mod:`~kdiga_mmrazor.evaluation.comparison`); returns ``path``."""
    from ..evaluation.comparison import curves, plot_curves
    flat, names = [], []
    for name, by_kind in records.items():
        for record in by_kind.values():
            students = [r for r in record['rows']
                        if r.get('member', 'student') == 'student']
            flat.append(dict(record, rows=students[:1]))
            names.append(name)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    plot_curves(curves(flat, names), path)
    return path


def compare(methods: Sequence[Method],
            out_dir: str,
            budget: Budget,
            run: Callable[[List[str], str], None] = run_command,
            time_steps: Optional[Callable[..., Dict[str, float]]] =
            time_configs,
            tests: Optional[Sequence[TestSpec]] = None,
            columns: Optional[Sequence[str]] = None) -> Dict:
    """Train, test and time every method; write ``comparison.md``.

    Args:
        tests (Sequence[TestSpec], optional): The robust tests of every
            method. Defaults to :func:`default_tests` of the budget.
        columns (Sequence[str], optional): Table columns. Defaults to
            clean accuracy, every attack tested, and the step times.
        time_steps: Measures seconds per step of the trained methods
            (None: no timing).

    Returns:
        dict: ``rows`` (one per method), ``seconds`` per step, ``table``,
        and ``records`` (method ↦ test kind ↦ its robust record).
    """
    tests = default_tests(budget) if tests is None else list(tests)
    for spec in tests:
        check_test_attacks(spec.robust_eval, spec.attacks)
    for method in methods:
        if method.trained:
            check_recorded_run(osp.join(out_dir, method.name),
                               train_settings(method, budget))
    rows, trained, all_records = [], {}, {}
    for method in methods:
        work_dir = osp.join(out_dir, method.name)
        checkpoint = method.checkpoint
        if method.trained:
            cfg = Config.fromfile(method.config)
            checkpoint = trained_checkpoint(
                work_dir, final_checkpoint_name(cfg, budget.iters))
            if checkpoint is None:
                record_settings(work_dir, train_settings(method, budget))
                run(train_command(method, work_dir, budget),
                    osp.join(work_dir, 'train.log'))
                checkpoint = last_checkpoint(work_dir)
            trained[method.name] = cfg
        records = {}
        for spec in tests:
            test_dir = osp.join(work_dir, f'test_{spec.kind}')
            settings = test_settings(method, spec)
            record = finished_test(test_dir, checkpoint, spec.attacks,
                                   spec.num_samples, settings)
            if record is None:
                record_settings(test_dir, settings)
                run(test_command(method, checkpoint, test_dir, spec.attacks,
                                 spec.num_samples, spec.robust_eval,
                                 spec.options),
                    osp.join(test_dir, 'test.log'))
                record = read_results(test_dir)
            records[spec.kind] = record
        all_records[method.name] = records
        rows.append(student_row(method.name, list(records.values())))
    seconds = {}
    if time_steps is not None and trained:
        seconds = time_steps(trained, repeats=budget.timing_repeats,
                             batch_size=budget.batch_size or 128)
    base = seconds.get('KD')
    for row in rows:
        if row['model'] in seconds:
            row['s/step'] = seconds[row['model']]
            row['× KD'] = seconds[row['model']] / base if base else None
    if columns is None:
        columns = ['clean_acc'] + [
            f'{a}/acc' for spec in tests for a in spec.attacks
        ] + (['s/step', '× KD'] if seconds else [])
    table = markdown_table(rows, list(columns))
    if seconds and not base:
        table += ("\n× KD is blank: plain KD (the 'KD' row) is not among "
                  'the methods timed; add it to compare against it.\n')
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'comparison.md'), 'w') as f:
        f.write(table)
    return dict(rows=rows, seconds=seconds, table=table,
                records=all_records)

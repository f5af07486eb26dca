"""The runs of a γ sweep: one short training and robust test per γ.

γ (``model.distiller.distill_losses.loss_iga.loss_weight``) trades clean
accuracy for robustness; :mod:`.gamma_calibration` chooses it from this
sweep. The config is trained once per γ of a grid and once with γ = 0
(plain KD on the same config and schedule, the reference), for the same
short number of iterations (``tools/train.py``: validation off, one
checkpoint; the config's learning-rate schedule and IAD's warm-up fitted
into the shorter run, :mod:`.schedule_fitting`), each in its own MMEngine
work dir
``{work_dir}/gamma_{γ:g}`` (logs, config dump, checkpoint), then its
student is robust-tested on a fixed class-balanced subset, clean and one
attack (``tools/test.py --robust``, into ``{work_dir}/gamma_{γ:g}/test``).
The command builders are :mod:`.method_comparison`'s.

Runs resume: a γ whose work dir holds its final checkpoint and a robust
record of that checkpoint (by content), recorded with the same settings
(``calibration_settings.json``: config and robust-eval file with their
contents' digests, γ, iterations, subset size, attack, ``--cfg-options``,
seed), is not run again; a finished training (``iter_{iters}.pth``)
without its test is only tested, a test without its checkpoint trains
again; a work dir recorded with other settings, or not by a sweep, is
refused before anything runs.
"""
import math
import os.path as osp
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

from ..attacks.builder import select_attacks
from ..evaluation.tables import read_results
from .method_comparison import (
    ROBUST_EVAL,
    Budget,
    Method,
    run_command,
    test_command,
    train_command,
)
from .run_records import (
    check_recorded_run,
    config_digest,
    finished_test,
    last_checkpoint,
    record_settings,
    trained_checkpoint,
)

GAMMA_KEY = 'model.distiller.distill_losses.loss_iga.loss_weight'
ATTACK = 'pgd20_linf_2'
SETTINGS = 'calibration_settings.json'


def geometric_grid(gamma_min: float, gamma_max: float,
                   num: int) -> List[float]:
    """``num`` γ spaced evenly in log γ from ``gamma_min`` to
    ``gamma_max`` (both included): :math:`γ_i = γ_{min}
    (γ_{max}/γ_{min})^{i/(num-1)}`."""
    if not (isinstance(num, int) and num >= 2):
        raise ValueError(f'--num must be an integer ≥ 2, got {num!r}')
    if not (math.isfinite(gamma_min) and gamma_min > 0):
        raise ValueError(f'--gamma-min must be > 0 (γ = 0, plain KD, is '
                         f'always run as the reference), got {gamma_min!r}')
    if not (math.isfinite(gamma_max) and gamma_max > gamma_min):
        raise ValueError(f'--gamma-max must be > --gamma-min '
                         f'({gamma_min!r}), got {gamma_max!r}')
    ratio = gamma_max / gamma_min
    inner = [gamma_min * ratio**(i / (num - 1)) for i in range(1, num - 1)]
    return [float(gamma_min)] + inner + [float(gamma_max)]


def check_gammas(gammas: Sequence[float]) -> List[float]:
    """The grid sorted; refuses γ ≤ 0, non-finite ones and γ sharing a
    work dir name (``{γ:g}``)."""
    bad = [g for g in gammas if not (math.isfinite(g) and g > 0)]
    if not gammas or bad:
        raise ValueError(f'--gammas must be finite and > 0 (γ = 0, plain '
                         f'KD, is always run as the reference), got '
                         f'{list(gammas)}')
    names = [f'{g:g}' for g in gammas]
    if len(set(names)) != len(names):
        raise ValueError(f'--gammas: {list(gammas)} repeats a value (work '
                         f'dirs gamma_{{γ:g}}: {names})')
    return sorted(float(g) for g in gammas)


@dataclass(frozen=True)
class Sweep:
    """What every run of the sweep shares; ``gammas`` is the grid (γ = 0
    is added as the reference)."""
    config: str
    gammas: Sequence[float]
    iters: int = 100
    num_samples: int = 500
    attack: str = ATTACK
    robust_eval: str = ROBUST_EVAL
    cfg_options: Sequence[str] = field(default_factory=tuple)
    seed: Optional[int] = 0  # randomness.seed of every run (None: unset)

    @cached_property
    def config_sha256(self) -> str:
        """The config's content digest (bases merged), read once."""
        return config_digest(self.config)

    @cached_property
    def robust_eval_sha256(self) -> str:
        """The robust-eval file's content digest, read once."""
        return config_digest(self.robust_eval)

    def settings(self, gamma: float) -> Dict:
        """What a run's results depend on, as recorded in its work dir
        (the config and the robust-eval file by path and content: an
        edited one is refused)."""
        return dict(config=self.config, config_sha256=self.config_sha256,
                    gamma=float(gamma), iters=self.iters,
                    num_samples=self.num_samples, attack=self.attack,
                    robust_eval=self.robust_eval,
                    robust_eval_sha256=self.robust_eval_sha256,
                    cfg_options=list(self.cfg_options), seed=self.seed)

    def method(self, gamma: float) -> Method:
        """The run of ``gamma``: the config with γ set, then
        ``cfg_options``."""
        return Method(f'gamma_{gamma:g}', self.config, options=(
            f'{GAMMA_KEY}={float(gamma)!r}', *self.cfg_options))


def gamma_dir(work_dir: str, gamma: float) -> str:
    """The MMEngine work dir of γ's run."""
    return osp.join(work_dir, f'gamma_{gamma:g}')


def check_run_dir(run_dir: str, settings: Dict) -> None:
    """Refuse a work dir holding something other than this run."""
    check_recorded_run(run_dir, settings, SETTINGS,
                           owner='this calibration', option='--work-dir')


def measured(test_dir: str, attack: str) -> Dict[str, float]:
    """Clean and robust accuracy of the student in a robust test's
    record; a missing or non-finite one raises naming the work dir."""
    record = read_results(test_dir)
    rows = [r for r in record['rows']
            if r.get('member', 'student') == 'student']
    values = {}
    for name, key in (('clean', 'clean_acc'), ('robust', f'{attack}/acc')):
        value = rows[0].get(key) if rows else None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f'{test_dir}: the robust results have no '
                             f'finite {key} ({value!r}); delete the work '
                             'dir to rerun it')
        values[name] = float(value)
    return values


def run_gamma(sweep: Sweep, gamma: float, work_dir: str,
              run: Callable[[List[str], str], None] = run_command) -> Dict:
    """Train and test γ unless its work dir already did; its row."""
    run_dir, settings = gamma_dir(work_dir, gamma), sweep.settings(gamma)
    check_run_dir(run_dir, settings)
    record_settings(run_dir, settings, SETTINGS)
    test_dir = osp.join(run_dir, 'test')
    method = sweep.method(gamma)
    checkpoint = trained_checkpoint(run_dir, f'iter_{sweep.iters}.pth')
    if checkpoint is None:
        budget = Budget(iters=sweep.iters, pgd_samples=sweep.num_samples,
                        aa_samples=0, timing_repeats=0, seed=sweep.seed)
        run(train_command(method, run_dir, budget),
            osp.join(run_dir, 'train.log'))
        checkpoint = last_checkpoint(run_dir)
    if finished_test(test_dir, checkpoint, [sweep.attack],
                     sweep.num_samples) is None:
        run(test_command(method, checkpoint, test_dir, [sweep.attack],
                         sweep.num_samples, sweep.robust_eval),
            osp.join(test_dir, 'test.log'))
    return dict(gamma=float(gamma), work_dir=run_dir,
                **measured(test_dir, sweep.attack))


def run_sweep(sweep: Sweep, work_dir: str,
              run: Callable[[List[str], str], None] = run_command
              ) -> List[Dict]:
    """The rows (γ, clean, robust, work dir) of γ = 0 and of every γ of
    the grid, in that order; the attack name and every existing work dir
    are checked before anything runs."""
    gammas = [0.0] + check_gammas(sweep.gammas)
    for option, value in (('--iters', sweep.iters),
                          ('--num-samples', sweep.num_samples)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f'{option} must be an integer ≥ 1, got '
                             f'{value!r}')
    attacks = list(Config.fromfile(sweep.robust_eval).robust_eval.attacks)
    select_attacks(attacks, [sweep.attack], f'--attack {sweep.attack}: '
                   f'the robust-eval file {sweep.robust_eval}')
    for gamma in gammas:
        check_run_dir(gamma_dir(work_dir, gamma), sweep.settings(gamma))
    return [run_gamma(sweep, g, work_dir, run) for g in gammas]

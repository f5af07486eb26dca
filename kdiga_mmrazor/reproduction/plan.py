"""The runs behind the results document, each an ordinary work dir.

Every run goes through :func:`~kdiga_mmrazor.engine.method_comparison.
compare` (``tools/train.py`` then ``tools/test.py --robust``), so each one
resumes when its work dir already holds its checkpoint and records, and a
reader can open any of them. The sections:

* ``pretrained``: the teacher, the pre-trained ResNet-20 before
  distillation, plain KD, KDIGA and the budget's robust-distillation
  baselines; PGD-20 at ε ∈ {1, 2, 4, 8}/255, AutoAttack at 2 and 8/255,
  the diagnostics at 2/255, randomized smoothing (teacher, KD, KDIGA);
* ``cnn`` and ``vit``: KD and KDIGA from scratch into ResNet-20 and into
  ViT-Tiny/4 (the cross-architecture pair), PGD-20 curve and diagnostics;
* ``gamma``: KDIGA on the pre-trained student over the budget's γ values;
* ``calibration``: :mod:`~kdiga_mmrazor.engine.gamma_calibration` on short
  runs of the pre-trained setting, then the full run at the γ it chose;
* ``timing``: seconds per training step of every trained configuration of
  a pair, interleaved in one process (:mod:`~kdiga_mmrazor.engine.
  step_timing`).
"""
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

from ..engine.gamma_sweep import GAMMA_KEY
from ..engine.method_comparison import (
    DISTILLATION,
    STUDENT,
    TEACHER,
    Method,
    TestSpec,
    compare,
    run_command,
)
from ..engine.step_timing import time_configs
from .budgets import ReproductionBudget

CURVE_EVAL = 'configs/_base_/robust_eval/cifar10_linf_curve.py'
SMOOTHING_EVAL = 'configs/_base_/robust_eval/cifar10_smoothing_l2_025.py'
PGD_CURVE = ('pgd20_linf_1', 'pgd20_linf_2', 'pgd20_linf_4', 'pgd20_linf_8')
AA_CURVE = ('autoattack_linf_2', 'autoattack_linf_8')
CONFIG_GAMMA = 0.1  # the γ of every KDIGA config
DIAGNOSTICS_EPS = 2 / 255  # the teacher's training ε


@dataclass(frozen=True)
class Pair:
    """A teacher → student setting: its plain-KD and KDIGA configs."""
    key: str
    title: str
    kd: str
    kdiga: str
    vit: bool = False


PAIRS = OrderedDict(
    pretrained=Pair('pretrained',
                    'resnet4b → ResNet-20, pre-trained student fine-tuned',
                    DISTILLATION['KD'], DISTILLATION['KDIGA']),
    cnn=Pair('cnn', 'resnet4b → ResNet-20 from scratch',
             'configs/kd_resnet4b_resnet20_cifar10.py',
             'configs/kdiga_resnet4b_resnet20_cifar10.py'),
    vit=Pair('vit', 'resnet4b → ViT-Tiny/4 from scratch (CNN → ViT)',
             'configs/kd_resnet4b_vit-tiny-p4_cifar10.py',
             'configs/kdiga_resnet4b_vit-tiny-p4_cifar10.py',
             vit=True),
)
SECTIONS = ('pretrained', 'gamma', 'calibration', 'cnn', 'vit')

Run = Callable[[List[str], str], None]


def gamma_method(gamma: float, config: str = DISTILLATION['KDIGA'],
                 suffix: str = '',
                 options: Sequence[str] = ()) -> Method:
    """KDIGA at γ (the config's own γ is the plain ``KDIGA`` row)."""
    if gamma == CONFIG_GAMMA and not suffix and not options:
        return Method('KDIGA', config)
    return Method(f'KDIGA γ={gamma:g}{suffix}', config,
                  options=(f'{GAMMA_KEY}={gamma!r}', ) + tuple(options))


def curve_tests(budget: ReproductionBudget,
                pair: str = 'pretrained') -> List[TestSpec]:
    """PGD-20 at every ε of the curve (and AutoAttack when the budget has
    it for ``pair``)."""
    tests = [TestSpec('curve', PGD_CURVE, budget.test_samples(pair),
                      CURVE_EVAL)]
    if budget.aa_samples and pair in budget.aa_pairs:
        tests.append(TestSpec('autoattack', AA_CURVE, budget.aa_samples,
                              CURVE_EVAL))
    return tests


def diagnostics_test(budget: ReproductionBudget,
                     pair: str = 'pretrained') -> TestSpec:
    """Local linearity, gradient misalignment and the bounds at 2/255,
    beside PGD-20 at the same ε."""
    return TestSpec('diagnostics', ('pgd20_linf_2', ),
                    budget.test_samples(pair, 'diagnostics'), CURVE_EVAL,
                    options=(f'test_cfg.diagnostics.eps={DIAGNOSTICS_EPS!r}',
                             'test_cfg.diagnostics.gradient_alignment=True'))


def smoothing_test(budget: ReproductionBudget) -> TestSpec:
    """Randomized smoothing at σ = 0.25 with the budget's samples."""
    return TestSpec('smoothing', (), budget.smoothing_samples,
                    SMOOTHING_EVAL,
                    options=(f'test_cfg.certification.0.n={budget.smoothing_n}',
                             'test_cfg.certification.0.n0='
                             f'{budget.smoothing_n0}'))


def teacher_diagnostics_test(budget: ReproductionBudget) -> TestSpec:
    """The teacher alone has no teacher to align with."""
    spec = diagnostics_test(budget)
    return TestSpec(spec.kind, spec.attacks, spec.num_samples,
                    spec.robust_eval, options=spec.options[:1])


def run_pair(pair: Pair, budget: ReproductionBudget, out_dir: str,
             run: Run = run_command,
             time_steps: Optional[Callable] = time_configs) -> Dict:
    """KD and KDIGA of one pair (for ``pretrained`` also the teacher, the
    student before distillation and the baselines), tested and timed."""
    work = osp.join(out_dir, pair.key)
    training = budget.training(pair.vit)
    results = dict(title=pair.title, budget=dict(
        iters=training.iters, batch_size=training.batch_size))
    evaluated = {}
    if pair.key == 'pretrained':
        evaluated['teacher'] = compare(
            [TEACHER], work, training, run=run, time_steps=None,
            tests=curve_tests(budget) + [teacher_diagnostics_test(budget),
                                         smoothing_test(budget)])
        evaluated['before'] = compare(
            [STUDENT], work, training, run=run, time_steps=None,
            tests=curve_tests(budget) + [teacher_diagnostics_test(budget)])
    distilled = [Method('KD', pair.kd), Method('KDIGA', pair.kdiga)]
    tests = curve_tests(budget, pair.key) + [diagnostics_test(budget,
                                                            pair.key)]
    if pair.key == 'pretrained':
        tests.append(smoothing_test(budget))
    evaluated['distilled'] = compare(distilled, work, training, run=run,
                                     time_steps=None, tests=tests)
    timed = {m.name: m.config for m in distilled}
    if pair.key == 'pretrained' and budget.baselines:
        baselines = [Method(name, DISTILLATION[name])
                     for name in budget.baselines]
        evaluated['baselines'] = compare(
            baselines, work, training, run=run, time_steps=None,
            tests=curve_tests(budget) + [diagnostics_test(budget)])
        timed.update({m.name: m.config for m in baselines})
    results['rows'] = [row for part in evaluated.values()
                       for row in part['rows']]
    results['records'] = {name: records for part in evaluated.values()
                          for name, records in part['records'].items()}
    results['seconds'] = {}
    if time_steps is not None:
        results['seconds'] = time_steps(
            {name: Config.fromfile(config) for name, config in timed.items()},
            repeats=budget.timing_repeats,
            batch_size=budget.batch_size or 128)
    return results


def run_gamma_sweep(budget: ReproductionBudget, out_dir: str,
                    run: Run = run_command) -> Dict:
    """KDIGA on the pre-trained student at every γ of the budget (γ = 0.1
    and plain KD come from the ``pretrained`` section's work dirs)."""
    methods = [Method('KD', DISTILLATION['KD']), gamma_method(CONFIG_GAMMA)]
    methods += [gamma_method(g) for g in budget.gammas if g != CONFIG_GAMMA]
    result = compare(methods, osp.join(out_dir, 'pretrained'),
                     budget.training(), run=run, time_steps=None,
                     tests=[TestSpec('curve', PGD_CURVE, budget.curve_samples,
                                     CURVE_EVAL),
                            diagnostics_test(budget)])
    gammas = [0.0, CONFIG_GAMMA] + [g for g in budget.gammas
                                    if g != CONFIG_GAMMA]
    for row, gamma in zip(result['rows'], gammas):
        row['gamma'] = gamma
    result['rows'].sort(key=lambda r: r['gamma'])
    return dict(rows=result['rows'], records=result['records'])


def calibration_options(budget: ReproductionBudget) -> List[str]:
    """``--cfg-options`` of the calibration's short runs: the one-cycle
    schedule rescaled to them, the budget's batch size."""
    options = [f'param_scheduler.total_steps={budget.calibration_iters}']
    if budget.batch_size:
        options.append(f'train_dataloader.batch_size={budget.batch_size}')
    return options


def calibration_command(budget: ReproductionBudget) -> str:
    """The ``calibrate_gamma.py`` command line that runs the same short
    runs as :func:`run_calibration`."""
    short = budget.calibration_iters
    return (f'python tools/analysis/calibrate_gamma.py '
            f'{DISTILLATION["KDIGA"]} --max-clean-drop '
            f'{budget.max_clean_drop:g} --gammas '
            + ' '.join(f'{g:g}' for g in budget.calibration_gammas)
            + f' --iters {short} --num-samples {budget.curve_samples} '
            f'--attack pgd20_linf_2 --robust-eval {CURVE_EVAL} '
            '--cfg-options ' + ' '.join(calibration_options(budget)))


def run_calibration(budget: ReproductionBudget, out_dir: str,
                    kd_clean: float, run: Run = run_command) -> Dict:
    """:func:`~kdiga_mmrazor.engine.gamma_calibration.calibrate` on short
    runs of the pre-trained setting (the one-cycle schedule rescaled to
    them), then the full-length run at the γ it chose, whose clean
    accuracy is checked against plain KD's full run (``kd_clean``, same
    subset). The document words the outcome
    (:func:`~kdiga_mmrazor.reproduction.document.calibration_summary`)."""
    from ..engine.gamma_calibration import calibrate, calibration_table
    from ..engine.gamma_sweep import Sweep
    short = budget.calibration_iters
    sweep = Sweep(config=DISTILLATION['KDIGA'],
                  gammas=budget.calibration_gammas, iters=short,
                  num_samples=budget.curve_samples, attack='pgd20_linf_2',
                  robust_eval=CURVE_EVAL,
                  cfg_options=tuple(calibration_options(budget)))
    result, paths = calibrate(sweep, osp.join(out_dir, 'calibration'),
                              budget.max_clean_drop, run=run, plot=False)
    out = dict(max_clean_drop=budget.max_clean_drop, short_iters=short,
               table=calibration_table(result), chosen_gamma=result.gamma,
               message=result.message, full_run_gamma=None)
    if result.gamma is None:
        return out
    method = gamma_method(result.gamma, suffix=' (calibrated)')
    full = compare([method], osp.join(out_dir, 'pretrained'),
                   budget.training(), run=run, time_steps=None,
                   tests=[TestSpec('curve', PGD_CURVE, budget.curve_samples,
                                   CURVE_EVAL)])
    row = full['rows'][0]
    drop = kd_clean - row['clean_acc']
    out.update(full_run_gamma=result.gamma, full_run=row,
               records=full['records'], drop=drop,
               within=drop <= budget.max_clean_drop)
    return out

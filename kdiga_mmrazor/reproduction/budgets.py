"""How much the reproduction trains and tests: ``smoke``, ``cpu``, ``paper``.

One budget fixes every number the results document depends on, so a rerun
on the same budget reproduces it within noise (the test subsets are fixed
and class-balanced; every training run gets ``randomness.seed=0``, the
configs leaving it unset). Iterations shorten a ResNet-20 config's
training without rescaling its learning-rate schedule; the ViT's warm-up and
cosine schedule is fitted into its iterations
(:meth:`ReproductionBudget.training`). ``None`` keeps the configs' own
schedules.
"""
import dataclasses
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ..engine.method_comparison import Budget


@dataclass(frozen=True)
class ReproductionBudget:
    """Every size of the reproduction.

    Attributes:
        name: The budget's name (``--budget``).
        iters: Training iterations of the ResNet-20 students (the
            pre-trained one, the one from scratch, the γ sweep). None: the
            configs' own schedules.
        vit_iters: Training iterations of the ViT student (None: its
            config's schedule).
        calibration_iters: Iterations of each short run of the γ
            calibration (its one-cycle schedule rescaled to them).
        calibration_gammas: The calibration's geometric γ grid (beside
            its γ = 0 reference run, plain KD's clean accuracy).
        batch_size: Training batch size (None: the configs' own, 128).
        curve_samples: Test images of the PGD-20 ε-curve, the γ sweep and
            the clean accuracy.
        aa_samples: Test images of AutoAttack (0: no AutoAttack).
        aa_pairs: The pairs (``pretrained``, ``cnn``, ``vit``) whose models
            AutoAttack tests.
        diagnostics_samples: Test images of the diagnostics.
        vit_samples: Test images of the ViT pair's curve and diagnostics
            (None: ``curve_samples`` and ``diagnostics_samples``; a ViT
            attack step costs about ten ResNet-20 ones on a CPU).
        smoothing_samples: Test images certified by randomized smoothing.
        smoothing_n0: Noisy samples that select the smoothed class.
        smoothing_n: Noisy samples that estimate its probability.
        gammas: γ values of the sweep on the pre-trained student (the
            configs' γ = 0.1 is the KDIGA row itself).
        baselines: Robust-distillation baselines trained beside KD and
            KDIGA on the pre-trained student (none on ``cpu``: each attacks
            the student at every step, 20–25 minutes per epoch on 2 CPU
            cores; ``tools/benchmarks/compare_methods.py`` compares them
            alone).
        timing_repeats: Interleaved repeats of the step timing.
        max_clean_drop: The γ calibration's allowed clean-accuracy drop
            against plain KD, in points.
    """
    name: str
    iters: Optional[int]
    vit_iters: Optional[int]
    calibration_iters: int
    batch_size: Optional[int]
    curve_samples: int
    aa_samples: int
    aa_pairs: Tuple[str, ...]
    diagnostics_samples: int
    smoothing_samples: int
    smoothing_n0: int
    smoothing_n: int
    gammas: Tuple[float, ...]
    baselines: Tuple[str, ...]
    timing_repeats: int
    max_clean_drop: float = 5.0
    vit_samples: Optional[int] = None
    calibration_gammas: Tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0)

    def test_samples(self, pair: str, kind: str = 'curve') -> int:
        """Test images of ``pair``'s ``curve`` or ``diagnostics``."""
        if pair == 'vit' and self.vit_samples is not None:
            return self.vit_samples
        return (self.curve_samples if kind == 'curve' else
                self.diagnostics_samples)

    def training(self, vit: bool = False) -> Budget:
        """The :class:`~kdiga_mmrazor.engine.method_comparison.Budget` of
        one comparison (its test sizes are the curve's).

        The ViT's schedule is fitted into its iterations: its 5-epoch
        warm-up would outlast a CPU budget's run, which would then train
        at about 1e-6 and leave the student at its initial weights. The
        ResNet-20 runs are the start of their configs' own runs (the
        pre-trained student's one-cycle schedule is one epoch long; from
        scratch, the first epochs of the step schedule are at its full
        learning rate).
        """
        return Budget(iters=self.vit_iters if vit else self.iters,
                      pgd_samples=self.curve_samples,
                      aa_samples=self.aa_samples,
                      timing_repeats=self.timing_repeats,
                      batch_size=self.batch_size, fit_schedule=vit)

    def describe(self) -> str:
        """The budget in one line (the tool's ``--budget`` help)."""
        def count(value: Optional[int], what: str) -> str:
            return f"{what}'s own schedule" if value is None else \
                f'{value} iterations'

        def listed(values) -> str:
            return ', '.join(f'{v:g}' if isinstance(v, float) else str(v)
                             for v in values) or 'none'

        vit = self.test_samples('vit')
        return (
            f'ResNet-20 students {count(self.iters, "each config")}, ViT '
            f'{count(self.vit_iters, "its config")}; PGD-20 on '
            f'{self.curve_samples} test images (ViT {vit}), AutoAttack on '
            f'{self.aa_samples} (pairs: {listed(self.aa_pairs)}), '
            f'diagnostics on {self.diagnostics_samples}; smoothing on '
            f'{self.smoothing_samples} images with n0 = {self.smoothing_n0}, '
            f'n = {self.smoothing_n}; γ sweep {listed(self.gammas)}; '
            f'calibration γ {listed(self.calibration_gammas)} on '
            f'{self.calibration_iters}-iteration runs; baselines: '
            f'{listed(self.baselines)}')

    def settings(self) -> Dict:
        """The budget as a JSON-able dict (for the document)."""
        return dataclasses.asdict(self)


BUDGETS = {
    'smoke': ReproductionBudget(
        name='smoke', iters=2, vit_iters=2, calibration_iters=2,
        batch_size=8, curve_samples=20, aa_samples=0, aa_pairs=(),
        diagnostics_samples=10, smoothing_samples=10, smoothing_n0=8,
        smoothing_n=32, gammas=(0.03, 1.0), baselines=('ARD', ),
        timing_repeats=1),
    'cpu': ReproductionBudget(
        name='cpu', iters=391, vit_iters=30, calibration_iters=100,
        batch_size=None, curve_samples=500, aa_samples=50,
        aa_pairs=('pretrained', ), diagnostics_samples=200,
        smoothing_samples=100, smoothing_n0=100, smoothing_n=500,
        gammas=(3.0, ), baselines=(), timing_repeats=2,
        vit_samples=200, calibration_gammas=(0.01, 0.1, 1.0)),
    'paper': ReproductionBudget(
        name='paper', iters=None, vit_iters=None, calibration_iters=391,
        batch_size=None, curve_samples=10000, aa_samples=1000,
        aa_pairs=('pretrained', 'cnn', 'vit'),
        diagnostics_samples=1000, smoothing_samples=500, smoothing_n0=100,
        smoothing_n=100000, gammas=(0.03, 0.3, 1.0, 3.0, 10.0),
        baselines=('ARD', 'RSLAD', 'IAD', 'AdaAD', 'ARD+IGDM',
                   'KDIGA+ARD'),
        timing_repeats=10),
}

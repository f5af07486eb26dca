"""Choose KDIGA's γ for a clean-accuracy budget from a short sweep.

:mod:`.gamma_sweep` trains and robust-tests the config at γ = 0 (plain KD,
the reference) and at every γ of a grid; this fits the trade-off and
chooses γ. With the grid :math:`γ_1 < … < γ_n`, :math:`u_i = \\log γ_i`
and measured clean accuracies :math:`c_i` (:math:`c_0`: plain KD's),
clean accuracy is modelled as a
non-increasing function of :math:`\\log γ`: the least-squares isotonic
fit (pool adjacent violators)

.. math::

    \\hat c = \\arg\\min_{\\hat c_0 \\ge \\hat c_1 \\ge … \\ge \\hat c_n}
        \\sum_{i=0}^n (c_i - \\hat c_i)^2,

linearly interpolated in :math:`u`, is :math:`f(γ)` on
:math:`[γ_1, γ_n]`. Plain KD (γ = 0, :math:`u_0 = -∞`) is the fit's
first point, so its fitted :math:`\\hat c_0` is pooled with the small γ
whenever its one run measured less than theirs (a noisy reference cannot
move the target alone); it sets the target :math:`τ = \\hat c_0 - P`
(:math:`P`, ``max_clean_drop``, in accuracy points). As :math:`f` does
not increase,
:math:`\\{γ \\in [γ_1, γ_n] : f(γ) \\ge τ\\} = [γ_1, γ^*]` with

.. math::

    \\log γ^* = u_k + \\frac{\\hat c_k - τ}{\\hat c_k - \\hat c_{k+1}}
        (u_{k+1} - u_k), \\qquad k = \\max\\{i : \\hat c_i \\ge τ\\} < n;

:math:`γ^* = γ_n` when :math:`\\hat c_n \\ge τ` (every γ tried is within
the drop: extend the grid up), and there is none when :math:`\\hat c_1 <
τ` (extend it down). The chosen γ is :math:`γ^*` rounded *down* to 2
significant digits (more where 2 would fall below :math:`γ_1`), so that
:math:`f` at it is still :math:`\\ge τ`. Its expected clean accuracy is
:math:`f` there, its expected robust accuracy the measured ones
interpolated linearly in :math:`\\log γ`.

The outputs, in the sweep's work dir: ``gamma_calibration.md`` (the
table), ``.json`` (the result and the sweep's settings) and ``.png`` (the
trade-off); :attr:`Calibration.cfg_options` is the line that trains with
the chosen γ. :class:`Sweep` and :func:`geometric_grid` (the runs) are
:mod:`.gamma_sweep`'s, here too.
"""
import json
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..evaluation.tables import md_cell
from .gamma_sweep import ATTACK, GAMMA_KEY, Sweep, geometric_grid, run_sweep
from .method_comparison import run_command

__all__ = [
    'ATTACK', 'GAMMA_KEY', 'Calibration', 'Sweep', 'calibrate',
    'calibration_table', 'format_gamma', 'geometric_grid',
    'interpolate_log', 'pav_non_increasing', 'plot_calibration',
    'round_down', 'select_gamma', 'write_calibration'
]
STEM = 'gamma_calibration'


def check_drop(max_clean_drop: float) -> None:
    """Refuse a drop :math:`P` that is negative or not a number."""
    if not (isinstance(max_clean_drop, (int, float))
            and math.isfinite(max_clean_drop) and max_clean_drop >= 0):
        raise ValueError(f'--max-clean-drop must be ≥ 0 (accuracy points), '
                         f'got {max_clean_drop!r}')


def pav_non_increasing(values: Sequence[float]) -> List[float]:
    """The least-squares non-increasing fit (pool adjacent violators):
    adjacent blocks whose means increase are merged into their mean."""
    blocks: List[List[float]] = []  # [sum, count]
    for value in values:
        blocks.append([float(value), 1])
        while len(blocks) > 1 and (blocks[-2][0] / blocks[-2][1]
                                   < blocks[-1][0] / blocks[-1][1]):
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    return [s / n for s, n in blocks for _ in range(int(n))]


def interpolate_log(gammas: Sequence[float], values: Sequence[float],
                    gamma: float) -> float:
    """``values`` linearly interpolated in log γ at ``gamma`` (within the
    grid)."""
    u = math.log(gamma)
    for i in range(len(gammas) - 1):
        lo, hi = math.log(gammas[i]), math.log(gammas[i + 1])
        if lo <= u <= hi:
            return values[i] + (u - lo) / (hi - lo) * (values[i + 1] -
                                                       values[i])
    return float(values[0] if u < math.log(gammas[0]) else values[-1])


def round_down(value: float, digits: int = 2) -> float:
    """``value`` > 0 rounded down to ``digits`` significant digits; never
    above ``value``."""
    exact = Decimal(repr(float(value)))
    step = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return float(exact.quantize(step, rounding=ROUND_FLOOR))


def format_gamma(gamma: float) -> str:
    """``{γ:g}`` where that is γ exactly, else every digit."""
    short = f'{gamma:g}'
    return short if float(short) == gamma else repr(float(gamma))


@dataclass
class Calibration:
    """The sweep's table and the γ chosen from it (``gamma`` None when no
    γ tried is within the drop); ``status`` is ``'crossing'``,
    ``'all_within'`` or ``'none_within'``."""
    rows: List[Dict]
    attack: str
    clean_kd: float
    max_clean_drop: float
    target: float
    status: str
    message: str
    gamma: Optional[float] = None
    crossing: Optional[float] = None
    expected_clean: Optional[float] = None
    expected_robust: Optional[float] = None
    fitted_kd: Optional[float] = None  # plain KD's fitted clean accuracy

    @property
    def cfg_options(self) -> Optional[str]:
        """The line that trains with the chosen γ."""
        if self.gamma is None:
            return None
        return f'--cfg-options {GAMMA_KEY}={format_gamma(self.gamma)}'

    def to_dict(self) -> Dict:
        return dict(asdict(self), cfg_options=self.cfg_options)


def select_gamma(gammas: Sequence[float], clean: Sequence[float],
                 robust: Sequence[float], clean_kd: float,
                 max_clean_drop: float, robust_kd: Optional[float] = None,
                 attack: str = ATTACK) -> Calibration:
    """The largest γ of ``[min(gammas), max(gammas)]`` whose fitted clean
    accuracy is ≥ plain KD's fitted one minus ``max_clean_drop`` (``clean_kd``
    is the fit's first point; see the module).

    Args:
        gammas (Sequence[float]): The grid, increasing, > 0.
        clean (Sequence[float]): Measured clean accuracy (%) at each γ.
        robust (Sequence[float]): Measured robust accuracy (%) at each γ.
        clean_kd (float): Clean accuracy of plain KD (γ = 0).
        max_clean_drop (float): :math:`P`, in accuracy points.
        robust_kd (float, optional): Robust accuracy of plain KD (for the
            table).
        attack (str): The robust accuracy's attack (for the table).

    Returns:
        Calibration: The rows (plain KD first), the status, the chosen γ
        and what is expected at it. The message notes a smaller γ tried
        that measured more robust accuracy than expected at the chosen
        one (robustness stopped rising: the larger γ only costs clean
        accuracy).
    """
    numbers = list(gammas) + list(clean) + list(robust) + [clean_kd]
    if not (len(gammas) == len(clean) == len(robust) >= 1) or not all(
            math.isfinite(v) for v in numbers):
        raise ValueError(f'select_gamma: need finite γ, clean and robust '
                         f'accuracies, one of each per γ; got {gammas}, '
                         f'{clean}, {robust}, clean_kd={clean_kd}')
    if any(b <= a for a, b in zip(gammas, gammas[1:])) or gammas[0] <= 0:
        raise ValueError(f'select_gamma: γ must be > 0 and increasing, '
                         f'got {list(gammas)}')
    check_drop(max_clean_drop)
    fitted = pav_non_increasing([clean_kd] + list(clean))
    fitted_kd, fit = fitted[0], fitted[1:]
    target = fitted_kd - max_clean_drop
    rows = [dict(gamma=0.0, clean=clean_kd, robust=robust_kd,
                 fitted=fitted_kd, within=None)]
    rows += [dict(gamma=float(g), clean=float(c), robust=float(r),
                  fitted=f, within=f >= target)
             for g, c, r, f in zip(gammas, clean, robust, fit)]
    base = dict(rows=rows, attack=attack, clean_kd=float(clean_kd),
                max_clean_drop=float(max_clean_drop), target=target,
                fitted_kd=fitted_kd)
    need = (f'fitted clean accuracy ≥ {target:.2f} (plain KD fitted '
            f'{fitted_kd:.2f} − {max_clean_drop:g})')
    if fit[0] < target:
        return Calibration(
            status='none_within', **base, message=(
                f'no γ tried keeps {need}; the smallest, γ = '
                f'{gammas[0]:g}, fits {fit[0]:.2f}: lower --gamma-min'))
    if fit[-1] >= target:
        status, crossing = 'all_within', float(gammas[-1])
        message = (f'every γ tried keeps {need}: γ = {gammas[-1]:g} is the '
                   'largest γ tried; extend --gamma-max to look further')
    else:
        k = max(i for i, f in enumerate(fit) if f >= target)
        lo, hi = math.log(gammas[k]), math.log(gammas[k + 1])
        crossing = math.exp(lo + (fit[k] - target) /
                            (fit[k] - fit[k + 1]) * (hi - lo))
        status = 'crossing'
        message = (f'the largest γ that keeps {need}: the fit crosses it at '
                   f'γ ≈ {crossing:.4g}')
    digits = 2
    gamma = round_down(crossing, digits)
    while gamma < gammas[0] and digits < 17:
        digits += 1
        gamma = round_down(crossing, digits)
    gamma = min(max(gamma, gammas[0]), crossing)
    expected_robust = interpolate_log(gammas, robust, gamma)
    better = [(r, g) for g, r in zip(gammas, robust)
              if g <= gamma and r > expected_robust]
    if better:
        r, g = max(better)
        message += (f'; note: γ = {g:g} measured more robust accuracy '
                    f'({r:.2f}) with no less clean accuracy')
    return Calibration(status=status, **base, message=message, gamma=gamma,
                       crossing=crossing,
                       expected_clean=interpolate_log(gammas, fit, gamma),
                       expected_robust=expected_robust)


def _cell(value, digits: int = 2) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


def calibration_table(result: Calibration) -> str:
    """The sweep as a Markdown table: γ, clean, robust, fitted clean and
    whether the fit keeps clean ≥ τ; plain KD first, the chosen γ last."""
    lines = [
        f'| γ | clean | {md_cell(result.attack)} | fitted clean | '
        f'clean ≥ {result.target:.2f} |', '|---:|---:|---:|---:|:---:|'
    ]
    for row in result.rows:
        within = {None: 'reference', True: 'yes', False: 'no'}[row['within']]
        name = '0 (plain KD)' if row['gamma'] == 0 else f"{row['gamma']:g}"
        lines.append(f"| {name} | {_cell(row['clean'])} | "
                     f"{_cell(row['robust'])} | {_cell(row['fitted'])} | "
                     f'{within} |')
    if result.gamma is not None:
        lines.append(f'| **{format_gamma(result.gamma)}** (chosen, '
                     'interpolated) | – | '
                     f'{_cell(result.expected_robust)} | '
                     f'{_cell(result.expected_clean)} | yes |')
    return '\n'.join(lines) + '\n'


def plot_calibration(result: Calibration, path: str) -> None:
    """Two panels (PNG): accuracy vs γ (measured clean and robust, the
    fit, plain KD, τ, the chosen γ), and clean vs robust accuracy over the
    sweep, points labelled with γ."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter
    kd, rows = result.rows[0], result.rows[1:]
    gammas = [r['gamma'] for r in rows]
    clean, robust = [r['clean'] for r in rows], [r['robust'] for r in rows]
    fitted = [r['fitted'] for r in rows]
    target = (f'plain KD (fitted) − {result.max_clean_drop:g} = '
              f'{result.target:.2f}')
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(gammas, clean, 'o', color='C0', label='clean')
    left.plot(gammas, fitted, '-', color='C0', alpha=0.6,
              label='clean, monotone fit')
    left.plot(gammas, robust, 's-', color='C1', label=result.attack)
    left.axhline(kd['clean'], color='C0', ls='--', lw=1,
                 label='plain KD (γ = 0), clean')
    if kd['robust'] is not None:
        left.axhline(kd['robust'], color='C1', ls='--', lw=1,
                     label=f'plain KD (γ = 0), {result.attack}')
    left.set_xscale('log')
    left.set_xticks(gammas, [f'{g:.3g}' for g in gammas])
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel('γ (loss_iga.loss_weight)')
    left.set_title('accuracy vs γ')
    right.plot(robust, clean, 'o-', color='C0', label='sweep (measured)')
    right.plot(robust, fitted, '--', color='C0', alpha=0.6,
               label='clean, monotone fit')
    for g, r, c in zip(gammas, robust, clean):
        right.annotate(f'γ={g:g}', (r, c), textcoords='offset points',
                       xytext=(4, 4), fontsize='small')
    if kd['robust'] is not None:
        right.plot([kd['robust']], [kd['clean']], '*', ms=12, color='k',
                   label='plain KD (γ = 0)')
        right.annotate('γ=0', (kd['robust'], kd['clean']), fontsize='small',
                       textcoords='offset points', xytext=(6, -3))
    right.set_xlabel(f'{result.attack} accuracy (%)')
    right.set_title('clean vs robust accuracy')
    for ax in (left, right):
        ax.axhline(result.target, color='C3', ls=':', label=target)
        if result.gamma is not None:
            x = result.gamma if ax is left else result.expected_robust
            ax.plot([x], [result.expected_clean], 'D', ms=9, color='C3',
                    label=f'chosen γ = {format_gamma(result.gamma)}')
        ax.set_ylabel('accuracy (%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize='x-small')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_calibration(result: Calibration, out_dir: str,
                      settings: Optional[Dict] = None,
                      plot: bool = True) -> Dict[str, str]:
    """``{out_dir}/gamma_calibration.{md,json,png}``; the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {ext: osp.join(out_dir, f'{STEM}.{ext}')
             for ext in ('md', 'json') + (('png', ) if plot else ())}
    with open(paths['md'], 'w') as f:
        f.write(calibration_table(result))
    with open(paths['json'], 'w') as f:
        json.dump(dict(result.to_dict(), sweep=settings), f, indent=2)
        f.write('\n')
    if plot:
        plot_calibration(result, paths['png'])
    return paths


def calibrate(sweep: Sweep, work_dir: str, max_clean_drop: float,
              run: Callable[[List[str], str], None] = run_command,
              plot: bool = True) -> Tuple[Calibration, Dict[str, str]]:
    """Run (or resume) the sweep in ``work_dir``, choose γ, write the
    outputs there; the result and the paths written."""
    check_drop(max_clean_drop)
    kd, *rows = run_sweep(sweep, work_dir, run)
    result = select_gamma([r['gamma'] for r in rows],
                          [r['clean'] for r in rows],
                          [r['robust'] for r in rows], kd['clean'],
                          max_clean_drop, robust_kd=kd['robust'],
                          attack=sweep.attack)
    for row, run_row in zip(result.rows, [kd] + rows):
        row['work_dir'] = run_row['work_dir']
    settings = dict(sweep.settings(0.0), gammas=[r['gamma'] for r in rows])
    del settings['gamma']
    return result, write_calibration(result, work_dir, settings, plot)

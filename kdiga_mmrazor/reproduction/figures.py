"""The pictures of the results document (PNG, matplotlib's Agg backend).

* :func:`plot_eps_curves`: robust accuracy against ε, one line per model
  and attack family (the gather tool's curves), clean accuracy at ε = 0;
* :func:`plot_gamma_tradeoff`: clean against robust accuracy over the γ
  sweep, one panel per attack, plain KD and the teacher's level marked,
  and the γ chosen for a clean-accuracy drop;
* :func:`plot_diagnostics`: the paper's diagnostics (gradient
  misalignment, local linearity, the first-order bound) against PGD-20
  accuracy, one point per student (a log axis for values spanning more
  than a decade).

Each figure carries ``note`` (the command and commit that produced it) in
its footer.
"""
from typing import Dict, Optional, Sequence

from ..evaluation.comparison import curves, plot_curves, save_figure


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_eps_curves(records: Sequence[Dict], names: Sequence[str],
                    path: str, title: str = '',
                    note: Optional[str] = None) -> Dict:
    """Robust accuracy against L∞ ε (in /255) of several robust records
    (one name per record; a model's PGD and AutoAttack records may share
    its name), drawn as the gather tool draws them
    (:func:`~kdiga_mmrazor.evaluation.comparison.plot_curves`: one colour
    per model, AutoAttack dashed). Returns the plotted curves."""
    data = curves(records, names)
    plot_curves(data, path, title=title, note=note)
    return data


def plot_gamma_tradeoff(rows: Sequence[Dict], attacks: Sequence[str],
                        path: str, chosen: Optional[Dict] = None,
                        teacher: Optional[Dict] = None,
                        clean_floor: Optional[float] = None,
                        note: Optional[str] = None) -> Dict[str, tuple]:
    """Clean accuracy (x) against robust accuracy (y) of every γ of a
    sweep (``rows`` with ``gamma``, ``clean_acc`` and ``{attack}/acc``;
    γ = 0 is plain KD), one panel per attack; the teacher's robust
    accuracy and 80% of it as horizontal lines, ``clean_floor`` (plain
    KD's clean accuracy minus the allowed drop) as a vertical one, and
    the ``chosen`` γ's own run (a row like those, with ``gamma``) as a
    star. Returns the star's ``(clean, robust)`` per attack."""
    plt = _pyplot()
    rows = sorted(rows, key=lambda r: r['gamma'])
    fig, axes = plt.subplots(1, len(attacks), figsize=(5.5 * len(attacks),
                                                       4.2), squeeze=False)
    stars: Dict[str, tuple] = {}
    for ax, attack in zip(axes[0], attacks):
        key = f'{attack}/acc'
        points = [(r['clean_acc'], r[key], r['gamma']) for r in rows
                  if r.get(key) is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker='o',
                color='C0', label='KDIGA over γ (γ = 0: plain KD)')
        for clean, robust, gamma in points:
            ax.annotate(f'γ={gamma:g}', (clean, robust), fontsize=7,
                        xytext=(3, 3), textcoords='offset points')
        if chosen is not None and chosen.get(key) is not None:
            stars[attack] = (chosen['clean_acc'], chosen[key])
            ax.plot(*([v] for v in stars[attack]), marker='*',
                    markersize=16, color='C3', linestyle='none',
                    label=f'chosen γ = {chosen["gamma"]:g} (its run)')
        if teacher and teacher.get(key) is not None:
            ax.axhline(teacher[key], color='C2', linewidth=1,
                       label=f'teacher {teacher[key]:.1f}')
            ax.axhline(0.8 * teacher[key], color='C2', linewidth=1,
                       linestyle=':', label='80% of the teacher')
        if clean_floor is not None:
            ax.axvline(clean_floor, color='0.5', linewidth=1,
                       linestyle='--', label='KD clean − allowed drop')
        ax.set_xlabel('clean accuracy (%)')
        ax.set_ylabel(f'{attack} accuracy (%)')
        ax.set_title(f'γ trade-off, {attack}')
        ax.grid(alpha=0.3)
        ax.legend(fontsize='x-small')
    save_figure(fig, path, note)
    return stars


DIAGNOSTIC_AXES = (('grad_misalign_l1', '‖∇ₓℓ_s − ∇ₓℓ_t‖₁'),
                   ('local_linearity', 'local linearity LL(ε, x)'),
                   ('first_order_bound', 'ℓ + ε‖∇ₓℓ‖₁ + LL(ε, x)'))


def plot_diagnostics(rows: Sequence[Dict], attack: str, path: str,
                     note: Optional[str] = None) -> None:
    """Each diagnostic (x, a sample mean) against ``attack`` accuracy (y),
    one labelled point per row that has both."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(DIAGNOSTIC_AXES),
                             figsize=(5 * len(DIAGNOSTIC_AXES), 4.2),
                             squeeze=False)
    key = f'{attack}/acc'
    for ax, (field, label) in zip(axes[0], DIAGNOSTIC_AXES):
        points = [(r[field], r[key], r['model']) for r in rows
                  if r.get(field) is not None and r.get(key) is not None]
        ax.scatter([p[0] for p in points], [p[1] for p in points])
        for x, y, name in points:
            ax.annotate(name, (x, y), fontsize=6, xytext=(3, 3),
                        textcoords='offset points')
        xs = [p[0] for p in points]
        if xs and min(xs) > 0 and max(xs) > 10 * min(xs):
            ax.set_xscale('log')  # values over more than a decade
        ax.set_xlabel(f'{label} (mean)')
        ax.set_ylabel(f'{attack} accuracy (%)')
        ax.grid(alpha=0.3)
    save_figure(fig, path, note)

"""The figures: PNG files, and the ε-curves they draw."""
from kdiga_mmrazor.reproduction.figures import (
    plot_diagnostics,
    plot_eps_curves,
    plot_gamma_tradeoff,
)


def record(name, clean, accs):
    return dict(
        model=name,
        rows=[dict(model=name, member='student', clean_acc=clean,
                   **{f'pgd20_linf_{e}/acc': a for e, a in accs.items()})],
        attacks=[dict(name=f'pgd20_linf_{e}', norm='linf', eps=e / 255)
                 for e in accs])


def is_png(path):
    with open(path, 'rb') as f:
        return f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_eps_curves_start_at_clean_accuracy(tmp_path):
    path = str(tmp_path / 'eps.png')
    data = plot_eps_curves([record('KD', 85.0, {2: 7.0, 8: 0.0}),
                            record('KDIGA', 80.0, {2: 50.0, 8: 1.0})],
                           ['KD', 'KDIGA'], path, note='made by a test')
    assert data['linf']['KDIGA pgd20_linf'] == [(0.0, 80.0), (2 / 255, 50.0),
                                                (8 / 255, 1.0)]
    assert is_png(path)


def test_tradeoff_and_diagnostics_figures_are_written(tmp_path):
    rows = [dict(model=f'γ={g}', gamma=g, clean_acc=85 - 10 * g,
                 **{'pgd20_linf_2/acc': 7 + 40 * g, 'pgd20_linf_8/acc': g,
                    'grad_misalign_l1': 1 - g, 'local_linearity': 0.1,
                    'first_order_bound': 2 - g})
            for g in (0.0, 0.1, 0.3, 1.0)]
    tradeoff = str(tmp_path / 'gamma.png')
    chosen = dict(gamma=0.08, clean_acc=81.8, **{'pgd20_linf_2/acc': 50.4,
                                                  'pgd20_linf_8/acc': 1.6})
    stars = plot_gamma_tradeoff(rows, ('pgd20_linf_2', 'pgd20_linf_8'),
                                tradeoff, chosen=chosen,
                                teacher={'pgd20_linf_8/acc': 18.8},
                                clean_floor=80.0, note='n')
    # the chosen γ is marked at its own run, off the sweep's grid
    assert stars == {'pgd20_linf_2': (81.8, 50.4), 'pgd20_linf_8': (81.8, 1.6)}
    diagnostics = str(tmp_path / 'diag.png')
    plot_diagnostics(rows, 'pgd20_linf_2', diagnostics)
    assert is_png(tradeoff) and is_png(diagnostics)

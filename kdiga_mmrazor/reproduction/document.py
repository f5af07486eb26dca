"""``docs/results.md`` from the reproduction's results: tables, figures,
and the sentences that answer its questions with numbers.

Every number comes from the robust records of the runs (``tools/test.py``
wrote them); nothing is recomputed but ratios. Rows take each metric from
the test that measures it: clean and PGD accuracy from the ε-curve test
(the largest subset), AutoAttack from its own, the diagnostics and the
certified accuracy from theirs.
"""
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from ..engine.method_comparison import STUDENT, TEACHER
from ..evaluation.tables import markdown_table
from .budgets import ReproductionBudget
from .figures import plot_diagnostics, plot_eps_curves, plot_gamma_tradeoff
from .plan import AA_CURVE, PAIRS, PGD_CURVE, calibration_command

DIAGNOSTIC_COLUMNS = ('pgd20_linf_2/acc', 'grad_misalign_l1', 'grad_cos_sim',
                      'local_linearity', 'first_order_bound',
                      'transfer_bound')
TEACHER_SHARE = 0.8  # of the teacher's PGD-20 accuracy at 8/255
NUM_CLASSES = 10  # CIFAR-10
CHANCE_LOSS_SHARE = 0.95  # of ln(classes), the loss of a uniform guess


def student_metrics(record: Optional[Dict]) -> Dict:
    """The student's row of a robust record without its labels ({} when
    there is no record)."""
    for row in (record or {}).get('rows', []):
        if row.get('member', 'student') == 'student':
            return {k: v for k, v in row.items()
                    if k not in ('model', 'member')}
    return {}


def model_row(name: str, records: Dict[str, Dict]) -> Dict:
    """One model's row: each metric from the test that measures it."""
    curve = student_metrics(records.get('curve'))
    row = dict(model=name, clean_acc=curve.get('clean_acc'))
    row.update({k: v for k, v in curve.items() if k.endswith('/acc')})
    aa = student_metrics(records.get('autoattack'))
    row.update({f'{a}/acc': aa.get(f'{a}/acc') for a in AA_CURVE if aa})
    diagnostics = student_metrics(records.get('diagnostics'))
    row.update({k: diagnostics.get(k)
                for k in DIAGNOSTIC_COLUMNS[1:] + ('clean_loss', )
                if k in diagnostics})
    smoothing = student_metrics(records.get('smoothing'))
    row.update({smoothing_column(k): v for k, v in smoothing.items()
                if k != 'clean_acc'})
    return row


def smoothing_column(key: str) -> str:
    """``smooth_l2_sigma0.25/certified_acc_r0.5 → 'smoothing r=0.5'``,
    ``…/smoothed_acc → 'smoothing acc'``, ``…/abstain → 'smoothing
    abstain'``."""
    metric = key.split('/', 1)[-1]
    if metric.startswith('certified_acc_r'):
        return f'smoothing r={metric[len("certified_acc_r"):]}'
    return 'smoothing ' + {'smoothed_acc': 'acc'}.get(metric, metric)


def calibration_summary(calibration: Dict, budget: Dict) -> str:
    """The γ calibration's outcome: the γ it chose with the command that
    chooses it, the full-length run's clean and PGD-20 @2/255 accuracy
    and whether it stays within the promised drop; then its table."""
    short = calibration['short_iters']
    drop_limit = calibration['max_clean_drop']
    command = calibration_command(ReproductionBudget(**budget))
    head = (f'**γ chosen for the user.** `{command}` ({short}-iteration '
            'runs, the one-cycle schedule rescaled to them)')
    if calibration.get('chosen_gamma') is None:
        return f'{head}: {calibration["message"]}'
    row = calibration['full_run']
    drop = calibration['drop']  # plain KD's full-run clean − this run's
    kd_clean = row['clean_acc'] + drop
    within = calibration['within']
    return (f'{head} chose **γ = {calibration["chosen_gamma"]:g}**; its '
            f'full-length run reaches {row["clean_acc"]:.1f}% clean '
            f'({abs(drop):.1f} points {"below" if drop >= 0 else "above"} '
            f'plain KD’s {kd_clean:.1f}%: '
            f'{"within" if within else "NOT within"} the promised '
            f'{drop_limit:g}) and {row["pgd20_linf_2/acc"]:.1f}% PGD-20 '
            f'@2/255.\n\n' + calibration['table'])


def minutes_note(results: Dict) -> str:
    """How long the invocation ran, by section (a section whose runs had
    finished before only resumes them, in seconds)."""
    parts = ', '.join(f'{name} {minutes:.0f}' for name, minutes in
                      results.get('minutes', {}).items())
    note = f'{results["wall_minutes"]:.0f} minutes'
    if parts:
        note += (f' (by section: {parts}; a section whose runs had finished '
                 'before only resumes them)')
    return note


def standard_error_note(sizes: Sequence[int]) -> str:
    """How far sampling moves an accuracy measured on ``n`` images: one
    binomial standard error, :math:`100\\sqrt{p(1-p)/n}` points, at its
    largest (:math:`p = 1/2`) for each subset size."""
    sizes = sorted({int(n) for n in sizes if n}, reverse=True)
    if not sizes:
        return ''
    each = ', '.join(f'{50 / math.sqrt(n):.1f} on {n} images' for n in sizes)
    return ('One binomial standard error of an accuracy p measured on n '
            'images is 100·√(p(1−p)/n) points, at most ' + each +
            ': differences below about twice that are within sampling '
            'noise.')


def pair_rows(section: Dict) -> List[Dict]:
    """Rows of a pair's models, with seconds per step and the ratio to
    plain KD's where timed."""
    seconds = section.get('seconds', {})
    rows = []
    for name, records in section['records'].items():
        row = model_row(name, records)
        if name in seconds:
            row['s/step'] = seconds[name]
            if seconds.get('KD'):
                row['× KD'] = seconds[name] / seconds['KD']
        rows.append(row)
    return rows


def gamma_answer(rows: Sequence[Dict], teacher: Dict,
                 attack: str = 'pgd20_linf_8') -> str:
    """The smallest γ whose student keeps ≥ 80% of the teacher's
    ``attack`` accuracy, with its clean accuracy, as a sentence."""
    key = f'{attack}/acc'
    target = TEACHER_SHARE * teacher[key]
    for row in sorted(rows, key=lambda r: r['gamma']):
        if row['gamma'] > 0 and row.get(key) is not None \
                and row[key] >= target:
            return (f'The smallest γ of the sweep that keeps ≥ 80% of the '
                    f"teacher's {attack} accuracy ({teacher[key]:.1f}%, so "
                    f'≥ {target:.1f}%) is **γ = {row["gamma"]:g}**: '
                    f'{row[key]:.1f}% at {row["clean_acc"]:.1f}% clean.')
    head = (f"No γ of the sweep keeps 80% of the teacher's {attack} "
            f'accuracy ({teacher[key]:.1f}%, so ≥ {target:.1f}%) on this '
            'schedule')
    measured = [r for r in rows if r['gamma'] > 0 and r.get(key) is not None]
    if not measured:
        return f'{head}; no run of it measured {attack}.'
    best = max(measured, key=lambda r: r[key])
    return (f'{head}; the most is {best[key]:.1f}% at '
            f'γ = {best["gamma"]:g} ({best["clean_acc"]:.1f}% clean).')


def distilled_rows(rows: Sequence[Dict],
                   teacher: Optional[Dict] = None) -> List[Dict]:
    """The rows of distilled students: neither the teacher (by name, or
    the row ``teacher``) nor the student before distillation."""
    return [r for r in rows if r is not teacher
            and r['model'] not in (TEACHER.name, STUDENT.name)]


def retention(rows: Sequence[Dict], teacher: Dict,
              attack: str = 'pgd20_linf_2') -> str:
    """How much of the teacher's ``attack`` accuracy each distilled
    student keeps, as a sentence."""
    key = f'{attack}/acc'
    if not teacher.get(key):
        return ''
    kept = [f'{r["model"]} {100 * r[key] / teacher[key]:.0f}%'
            for r in distilled_rows(rows, teacher) if r.get(key) is not None]
    return (f"Share of the teacher's {attack} accuracy "
            f'({teacher[key]:.1f}%) kept: ' + ', '.join(kept) + '.')


def chance_level_note(rows: Sequence[Dict],
                      num_classes: int = NUM_CLASSES) -> str:
    """A sentence when every distilled student of a pair is still at
    chance: its clean cross-entropy at least 95% of :math:`\\ln C`, the
    loss of a uniform prediction over :math:`C` classes (its accuracies
    are those of its initial weights, whatever the method); else ''."""
    chance = math.log(num_classes)
    students = distilled_rows(rows)
    losses = [r.get('clean_loss') for r in students]
    if not students or any(v is None or v < CHANCE_LOSS_SHARE * chance
                           for v in losses):
        return ''
    each = ', '.join(f'{r["model"]} {v:.3f}' for r, v in zip(students,
                                                            losses))
    return (f'These students are still at chance: clean cross-entropy '
            f'{each}, against ln {num_classes} = {chance:.3f} for a uniform '
            'prediction. At this budget the pair says nothing about the '
            'methods (their accuracies are those of the initial weights); '
            '`--budget paper` trains it on its config’s schedule.')


def _figure(lines: List[str], path: str, doc_dir: str, caption: str,
            note: str) -> None:
    rel = osp.relpath(path, doc_dir)
    lines += [f'![{caption}]({rel})', '',
              f'*{caption}.* Produced by {note}.', '']


def write_document(results: Dict, doc_path: str,
                   figure_dir: Optional[str] = None) -> str:
    """Write the document (and its figures into ``figure_dir``, default
    ``<doc stem>/`` beside it); returns its path."""
    doc_dir = osp.dirname(osp.abspath(doc_path))
    figure_dir = figure_dir or osp.splitext(osp.abspath(doc_path))[0]
    os.makedirs(figure_dir, exist_ok=True)
    note = f'`{results["command"]}` at commit `{results["commit"]}`'
    budget = results['budget']
    lines = [
        '# Results', '',
        f'Everything below was produced by `{results["command"]}` at commit '
        f'`{results["commit"]}` ({results["date"]}; {results["machine"]}; '
        f'{minutes_note(results)}). Rerun the command to '
        'reproduce it; every run is an ordinary work dir under its '
        '`--out-dir`, and a rerun resumes finished ones.', '',
        f'Budget `{budget["name"]}`: ResNet-20 students train for '
        f'{budget["iters"] or "their configs’"} iterations, the ViT for '
        + (f'{budget["vit_iters"]} (its warm-up and cosine schedule '
           'fitted into them)' if budget['vit_iters'] else 'its config’s')
        + '; PGD-20 on '
        f'{budget["curve_samples"]} fixed class-balanced test images, '
        f'AutoAttack (standard) on {budget["aa_samples"]}, diagnostics on '
        f'{budget["diagnostics_samples"]}, randomized smoothing on '
        f'{budget["smoothing_samples"]} with n0 = {budget["smoothing_n0"]},'
        f' n = {budget["smoothing_n"]}. Accuracies in percent; a sample is '
        'robust only if also clean-correct. The teacher is the vendored '
        'resnet4b, adversarially trained at L∞ 2/255.', '']
    if budget.get('vit_samples') is not None:
        lines[-2] += (' The ViT pair is tested (PGD-20 and diagnostics) on '
                      f'{budget["vit_samples"]} of those images.')
    aa_pairs = budget.get('aa_pairs', list(PAIRS))
    if budget['aa_samples'] and list(aa_pairs) != list(PAIRS):
        lines[-2] += (' AutoAttack tests the models of the '
                      + ', '.join(f'`{p}`' for p in aa_pairs)
                      + ' pair only.')
    note_sizes = [budget['curve_samples'], budget['diagnostics_samples'],
                  budget.get('vit_samples'),
                  budget['aa_samples'], budget['smoothing_samples']]
    lines[-2] += ' ' + standard_error_note(note_sizes)
    if not budget.get('baselines'):
        lines += ['The robust-distillation baselines (ARD, RSLAD, IAD, '
                  'AdaAD, IGDM, KDIGA + ARD) are not in this budget: each '
                  'attacks the student at every step, several times the '
                  'cost of a KDIGA step. `--budget paper` trains them; '
                  '`tools/benchmarks/compare_methods.py` compares them on '
                  'their own.', '']
    teacher = {}
    for key, pair in PAIRS.items():
        section = results.get(key)
        if not section:
            continue
        rows = pair_rows(section)
        if key == 'pretrained':
            teacher = rows[0]
        columns = ['clean_acc'] + [f'{a}/acc' for a in PGD_CURVE + AA_CURVE]
        columns += ['s/step', '× KD']
        lines += [f'## {pair.title}', '',
                  f'{section["budget"]["iters"] or "The configs’"} training '
                  'iterations.', '',
                  markdown_table(rows, [c for c in columns
                                        if any(r.get(c) is not None
                                               for r in rows)]), '']
        lines += [chance_level_note(rows) or retention(rows, teacher), '']
        path = osp.join(figure_dir, f'robust_acc_vs_eps_{key}.png')
        names, records = [], []
        for name, by_kind in section['records'].items():
            if key == 'pretrained' and name not in (
                    TEACHER.name, 'KD', 'KDIGA'):
                continue
            for kind in ('curve', 'autoattack'):
                if kind in by_kind:
                    names.append(name)
                    records.append(by_kind[kind])
        plot_eps_curves(records, names, path, title=pair.title, note=note)
        _figure(lines, path, doc_dir,
                f'Robust accuracy against ε, {pair.title}', note)
    lines += _gamma_section(results, teacher, figure_dir, doc_dir, note)
    lines += _diagnostics_section(results, figure_dir, doc_dir, note)
    lines += _smoothing_section(results)
    with open(doc_path, 'w') as f:
        f.write('\n'.join(lines).rstrip() + '\n')
    return doc_path


def _gamma_section(results, teacher, figure_dir, doc_dir, note) -> List[str]:
    sweep = results.get('gamma')
    if not sweep:
        return []
    rows = sweep['rows']
    lines = ['## γ: the clean/robust trade-off', '',
             'KDIGA on the pre-trained ResNet-20 over γ (γ = 0 is plain KD, '
             'γ = 0.1 the configs’ default), same schedule and subset:', '']
    table_rows = [dict(r, model=f'γ = {r["gamma"]:g}') for r in rows]
    for row in table_rows:  # a run without @8/255 is left blank, not 0
        if teacher.get('pgd20_linf_8/acc') and \
                row.get('pgd20_linf_8/acc') is not None:
            row['% of teacher @8'] = (100 * row['pgd20_linf_8/acc']
                                      / teacher['pgd20_linf_8/acc'])
    lines += [markdown_table(table_rows, ['clean_acc', 'pgd20_linf_2/acc',
                                          'pgd20_linf_8/acc',
                                          '% of teacher @8']), '']
    if teacher.get('pgd20_linf_8/acc') is not None:
        lines += [gamma_answer(rows, teacher), '']
    calibration = results.get('calibration')
    if calibration:
        lines += [calibration_summary(calibration, results['budget']), '']
    path = osp.join(figure_dir, 'gamma_tradeoff.png')
    kd = next((r for r in rows if r['gamma'] == 0), None)
    floor = None
    if kd is not None and calibration:
        floor = kd['clean_acc'] - calibration['max_clean_drop']
    chosen_run = None
    if calibration and calibration.get('full_run'):
        chosen_run = dict(calibration['full_run'],
                          gamma=calibration['full_run_gamma'])
    plot_gamma_tradeoff(rows, ('pgd20_linf_2', 'pgd20_linf_8'), path,
                        chosen=chosen_run, teacher=teacher,
                        clean_floor=floor, note=note)
    _figure(lines, path, doc_dir, 'Clean against robust accuracy over γ',
            note)
    return lines


def _diagnostics_section(results, figure_dir, doc_dir, note) -> List[str]:
    rows = []
    for key in PAIRS:
        for row in pair_rows(results[key]) if results.get(key) else []:
            if row.get('grad_misalign_l1') is not None or \
                    row.get('local_linearity') is not None:
                rows.append(dict(row, model=f'{row["model"]} ({key})'))
    for row in (results.get('gamma') or {}).get('rows', []):
        if row['gamma'] not in (0, 0.1) and row.get('local_linearity'):
            rows.append(dict(row, model=f'KDIGA γ={row["gamma"]:g}'))
    if not rows:
        return []
    lines = ['## Diagnostics against PGD accuracy', '',
             'Sample means at ε = 2/255 (pixel space): the input-gradient '
             'misalignment with the teacher, its cosine, local linearity '
             'LL(ε, x) (the largest deviation of the loss from its '
             'linearisation in the ε-ball; Qin et al. call it γ), the '
             'first-order bound ℓ + ε‖∇ₓℓ‖₁ + LL(ε, x) on the adversarial '
             'loss and the '
             'transfer bound with the teacher’s gradient; lower is better '
             'for all but the cosine.', '',
             markdown_table(rows, list(DIAGNOSTIC_COLUMNS), digits=3), '']
    path = osp.join(figure_dir, 'diagnostics.png')
    plot_diagnostics(rows, 'pgd20_linf_2', path, note=note)
    _figure(lines, path, doc_dir,
            'Diagnostics against PGD-20 accuracy at 2/255', note)
    return lines


def _smoothing_section(results) -> List[str]:
    section = results.get('pretrained')
    if not section:
        return []
    rows = [r for r in pair_rows(section)
            if any(k.startswith('smoothing ') for k in r)]
    if not rows:
        return []
    columns = []
    for row in rows:
        columns += [k for k in row
                    if k.startswith('smoothing ') and k not in columns]
    budget = results['budget']
    return ['## Certified robustness (randomized smoothing)', '',
            'Cohen et al.’s CERTIFY at σ = 0.25 (pixel space), α = 0.001, '
            f'n0 = {budget["smoothing_n0"]}, n = {budget["smoothing_n"]}, on '
            f'{budget["smoothing_samples"]} fixed test images: certified '
            'accuracy at each L2 radius (abstentions count as wrong) and '
            'the share of abstentions. With n samples no radius above '
            'σ·Φ⁻¹(α^(1/n)) can be certified.', '',
            markdown_table([{k: v for k, v in r.items()
                             if k == 'model' or k in columns}
                            for r in rows], columns), '']

"""Several robust results side by side: one table, robust accuracy vs ε.

Each record is what a robust test wrote (``robust_results.json``, see
:func:`~kdiga_mmrazor.evaluation.tables.write_results`). :func:`gather_rows`
joins their rows (one row per model and member), :func:`curves` turns them
into robust accuracy against ε per model and attack family (clean accuracy
at ε = 0), :func:`plot_curves` draws them, one panel per norm. Records are
checked first (:func:`~kdiga_mmrazor.evaluation.tables.check_record`):
a malformed one raises naming the field.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from .tables import check_record

NORM_TITLES = {'linf': 'L∞', 'l2': 'L2', 'l1': 'L1'}


def gather_rows(records: Sequence[Dict],
                names: Optional[Sequence[str]] = None) -> List[Dict]:
    """The rows of every record, relabelled with ``names`` (one per record;
    a teacher row keeps its ``(teacher)`` suffix)."""
    if names is not None and len(names) != len(records):
        raise ValueError(
            f'gather_robust_results: --names has {len(names)} labels for '
            f'{len(records)} work dirs; give one per work dir')
    rows = []
    for k, record in enumerate(records):
        check_record(record, f'gather_robust_results: records[{k}]')
        for row in record['rows']:
            row = dict(row)
            if names is not None:
                suffix = '' if row.get('member', 'student') == 'student' \
                    else f" ({row['member']})"
                row['model'] = names[k] + suffix
            rows.append(row)
    return rows


def attack_family(settings: Dict) -> str:
    """``pgd20_linf_8 → 'pgd20_linf'``: the name without its ε."""
    return re.sub(r'_[^_]+$', '', settings['name'])


def curves(records: Sequence[Dict],
           names: Optional[Sequence[str]] = None) -> Dict:
    """``{norm: {label: [(ε, acc), ...]}}`` with ``label = 'model
    family'`` and the clean accuracy at ε = 0. An attack whose settings
    lack ``norm`` or ``eps`` (an attack object without ``settings()``) has
    no place on an ε axis: it is in the table, not in the curves."""
    out: Dict[str, Dict[str, List]] = OrderedDict()
    rows = gather_rows(records, names)
    i = 0
    for record in records:
        n = len(record['rows'])
        record_rows, i = rows[i:i + n], i + n
        for row in record_rows:
            for settings in record['attacks']:
                acc = row.get(f"{settings['name']}/acc")
                if acc is None or 'norm' not in settings \
                        or 'eps' not in settings:
                    continue
                label = f"{row['model']} {attack_family(settings)}"
                points = out.setdefault(settings['norm'], OrderedDict())
                series = points.setdefault(label, [])
                if not series and 'clean_acc' in row:
                    series.append((0.0, row['clean_acc']))
                series.append((float(settings['eps']), acc))
    for norm in out.values():
        for label in norm:
            norm[label] = sorted(set(norm[label]))
    return out


FAMILY_STYLES = (('-', 'o'), ('--', 's'), (':', '^'), ('-.', 'D'))


def curve_styles(data: Dict) -> Dict[str, Dict]:
    """Matplotlib style of each curve of :func:`curves`' ``data``: one
    colour per model (``tab10``, ``tab20`` beyond ten models), one line
    style and marker per attack family, AutoAttack dashed; the legend
    label ``'model, family'``."""
    import matplotlib
    labels = [label for series in data.values() for label in series]
    models = list(OrderedDict.fromkeys(
        label.rsplit(' ', 1)[0] for label in labels))
    families = list(OrderedDict.fromkeys(
        label.rsplit(' ', 1)[1] for label in labels))
    families.sort(key=lambda f: f.startswith('autoattack'))  # PGD first
    palette = matplotlib.colormaps['tab10' if len(models) <= 10 else 'tab20']
    styles = {}
    for label in labels:
        model, family = label.rsplit(' ', 1)
        line, marker = FAMILY_STYLES[families.index(family)
                                     % len(FAMILY_STYLES)]
        title = 'AutoAttack' if family.startswith('autoattack') else family
        styles[label] = dict(
            color=matplotlib.colors.to_hex(
                palette(models.index(model) % palette.N)),
            linestyle=line, marker=marker, label=f'{model}, {title}')
    return styles


def plot_curves(data: Dict, path: str, title: str = '',
                note: Optional[str] = None) -> Dict[str, Dict]:
    """Robust accuracy vs ε (L∞ ε in /255), one panel per norm (PNG), in
    :func:`curve_styles`' styles, the legend beside the panels; ``note``
    (the command that made it) in the footer. Returns the styles."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    styles = curve_styles(data)
    fig, axes = plt.subplots(
        1, max(len(data), 1), figsize=(5.5 * max(len(data), 1), 4.2),
        squeeze=False)
    handles = {}
    for ax, (norm, series) in zip(axes[0], data.items()):
        scale = 255 if norm == 'linf' else 1
        for label, points in series.items():
            (handles[label], ) = ax.plot([e * scale for e, _ in points],
                                         [a for _, a in points],
                                         **styles[label])
        norm_title = NORM_TITLES.get(norm, norm)
        ax.set_xlabel('ε (/255)' if norm == 'linf' else f'ε ({norm_title})')
        ax.set_ylabel('accuracy (%)')
        ax.set_title(title or f'robust accuracy, {norm_title}')
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    if handles:
        fig.legend(list(handles.values()),
                   [styles[label]['label'] for label in handles],
                   loc='upper left', bbox_to_anchor=(1.0, 1.0),
                   fontsize='x-small', ncol=1 if len(handles) <= 20 else 2)
    save_figure(fig, path, note)
    return styles


def save_figure(fig, path: str, note: Optional[str] = None) -> None:
    """Write ``fig`` as a PNG, ``note`` (the command that made it) in a
    footer, everything drawn outside the axes (a legend beside them)
    inside the image; the figure is closed."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    if note:
        fig.text(0.01, -0.02, note, fontsize=6, color='0.35', ha='left',
                 va='top')
    fig.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(fig)

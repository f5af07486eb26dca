"""Run every section of the reproduction, then write the document.

:func:`reproduce` runs the sections of :mod:`.plan` in order (each resumes
from its work dirs), keeps what they measured in ``{out_dir}/results.json``
with the command, the commit and the machine, and writes the document
(:mod:`.document`) from it; :func:`rewrite_document` redraws it from that
file without running anything.
"""
import json
import os
import os.path as osp
import platform
import subprocess
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from ..engine.method_comparison import run_command
from ..engine.step_timing import time_configs
from .budgets import ReproductionBudget
from .document import pair_rows, write_document
from .plan import PAIRS, SECTIONS, run_calibration, run_gamma_sweep, run_pair

RESULTS = 'results.json'


def commit_of(repo: str) -> str:
    """``git describe``-like: the short commit, ``+changes`` when the work
    tree differs from it (``unknown`` outside a git checkout)."""
    try:
        sha = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                             cwd=repo, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--',
                                'kdiga_mmrazor', 'configs', 'tools'],
                               cwd=repo, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return sha + ('+changes' if dirty else '')


def machine() -> str:
    """The device the runs used, in words."""
    if torch.cuda.is_available():
        return f'{torch.cuda.get_device_name(0)}, torch {torch.__version__}'
    return (f'CPU ({platform.processor() or platform.machine()}, '
            f'{torch.get_num_threads()} threads), torch {torch.__version__}')


def reproduce(budget: ReproductionBudget, out_dir: str, doc_path: str,
              command: str, repo: str = '.',
              sections: Sequence[str] = SECTIONS,
              run: Callable = run_command,
              time_steps: Optional[Callable] = time_configs) -> Dict:
    """Run ``sections`` on ``budget`` into ``out_dir``; write the document.

    Raises:
        ValueError: an unknown section, or ``gamma``/``calibration``
            without ``pretrained`` (they compare with its KD run).
    """
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f'--sections: unknown {unknown}; choose from '
                         f'{list(SECTIONS)}')
    if {'gamma', 'calibration'} & set(sections) and \
            'pretrained' not in sections:
        raise ValueError('--sections: gamma and calibration need '
                         'pretrained (its plain-KD and KDIGA runs)')
    start = time.time()
    results: Dict = dict(command=command, commit=commit_of(repo),
                         date=time.strftime('%Y-%m-%d'), machine=machine(),
                         budget=budget.settings(), minutes={},
                         wall_minutes=0.0)
    for section in sections:
        began = time.time()
        if section in PAIRS:
            results[section] = run_pair(PAIRS[section], budget, out_dir,
                                        run=run, time_steps=time_steps)
        elif section == 'gamma':
            results[section] = run_gamma_sweep(budget, out_dir, run=run)
        else:
            kd = next(r for r in pair_rows(results['pretrained'])
                      if r['model'] == 'KD')
            results[section] = run_calibration(budget, out_dir,
                                               kd['clean_acc'], run=run)
        results['minutes'][section] = (time.time() - began) / 60
        results['wall_minutes'] = (time.time() - start) / 60
        save_results(results, out_dir)  # a stopped run keeps what it did
    write_document(results, doc_path)
    return results


def save_results(results: Dict, out_dir: str) -> None:
    """``{out_dir}/results.json``: what the sections measured so far."""
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, RESULTS), 'w') as f:
        json.dump(results, f, indent=1, default=str)


def saved_sections(out_dir: str) -> List[str]:
    """The sections ``{out_dir}/results.json`` holds (none when absent)."""
    path = osp.join(out_dir, RESULTS)
    if not osp.isfile(path):
        return []
    with open(path) as f:
        saved = json.load(f)
    return [s for s in SECTIONS if s in saved]


def rewrite_document(out_dir: str, doc_path: str) -> Dict:
    """The document again from ``{out_dir}/results.json``."""
    with open(osp.join(out_dir, RESULTS)) as f:
        results = json.load(f)
    write_document(results, doc_path)
    return results

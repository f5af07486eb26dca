"""What a run's work dir records, and whether an earlier run can be resumed.

The method comparison, the γ sweep and the reproduction train and test
into ordinary MMEngine work dirs and resume what finished. A work dir is
reused only when it provably holds this run: its recorded settings
(``comparison_settings.json``, or the sweep's own record) equal the
current ones, its final checkpoint is the one MMEngine recorded last, and
a robust record names the same checkpoint by content. Everything else is
refused (a trained work dir) or run again (a test), never silently reused.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.config import Config

from ..checkpoint import file_sha256
from ..evaluation.tables import read_results

SETTINGS = 'comparison_settings.json'


def config_digest(config: str) -> str:
    """sha256 of the config as MMEngine reads it (its bases merged, keys
    sorted): an edit of the file or of any base it inherits changes it."""
    content = json.dumps(Config.fromfile(config).to_dict(), sort_keys=True,
                         default=repr)
    return hashlib.sha256(content.encode()).hexdigest()


def recorded_settings(run_dir: str, record: str = SETTINGS) -> Optional[Dict]:
    """The settings recorded in ``run_dir`` (None when there are none)."""
    path = osp.join(run_dir, record)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def record_settings(run_dir: str, settings: Dict,
                    record: str = SETTINGS) -> None:
    """Record ``settings`` in ``run_dir`` (before its run starts)."""
    os.makedirs(run_dir, exist_ok=True)
    with open(osp.join(run_dir, record), 'w') as f:
        json.dump(settings, f, indent=2)


def check_recorded_run(run_dir: str, settings: Dict,
                       record: str = SETTINGS,
                       owner: str = 'this comparison',
                       option: str = '--out-dir') -> None:
    """Refuse a run dir holding something other than this run: settings
    recorded that differ from ``settings``, or files but no record."""
    recorded = recorded_settings(run_dir, record)
    if recorded is not None:
        if recorded == settings:
            return
        diff = {k: (recorded.get(k), v) for k, v in settings.items()
                if recorded.get(k) != v}
        raise ValueError(
            f'{run_dir} holds a run with other settings (recorded, now: '
            f'{diff}); use another {option} or delete {run_dir}')
    if osp.isdir(run_dir) and os.listdir(run_dir):
        raise ValueError(
            f'{run_dir} is not empty and has no {record} (not a run of '
            f'{owner}); use another {option} or delete it')


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine recorded last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def trained_checkpoint(work_dir: str, name: Optional[str]) -> Optional[str]:
    """The final checkpoint ``name`` of an earlier run in ``work_dir``, or
    None (then the method trains; always when ``name`` is None).

    The run finished when MMEngine's ``last_checkpoint`` names ``name``;
    the file is taken from ``work_dir`` itself, not from the absolute path
    recorded there, so a moved out-dir still resumes.
    """
    if name is None or not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    checkpoint = osp.join(work_dir, name)
    if (osp.basename(last_checkpoint(work_dir)) != name
            or not osp.isfile(checkpoint)):
        return None
    return checkpoint


def same_checkpoint(recorded: Optional[Dict], checkpoint: str) -> bool:
    """Whether a robust record's ``checkpoint`` entry names the file
    ``checkpoint``: by content (sha256) when the record has a digest and
    the file exists, so a moved or copied out-dir still matches; by
    absolute path otherwise."""
    recorded = recorded or {}
    if recorded.get('sha256') and osp.isfile(checkpoint):
        return recorded['sha256'] == file_sha256(checkpoint)
    return osp.abspath(str(recorded.get('path'))) == osp.abspath(checkpoint)


def finished_test(test_dir: str, checkpoint: str, attacks: Sequence[str],
                  num_samples: Optional[int],
                  settings: Optional[Dict] = None) -> Optional[Dict]:
    """The record of an earlier identical test in ``test_dir`` (same
    checkpoint file, attacks and subset size, and, when given, the same
    recorded ``settings``), or None."""
    if not osp.isfile(osp.join(test_dir, 'robust_results.json')):
        return None
    if settings is not None and recorded_settings(test_dir) != settings:
        return None
    record = read_results(test_dir)
    same = (
        same_checkpoint(record.get('checkpoint'), checkpoint)
        and [a.get('name') for a in record.get('attacks', [])]
        == list(attacks)
        and (record.get('subset') or {}).get('num_samples') == num_samples)
    return record if same else None

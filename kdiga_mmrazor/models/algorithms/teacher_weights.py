"""Where a teacher's weights come from: loaded strictly, then kept honest.

A distillation result is only as good as its teacher, and every upstream
way of loading one is non-strict: MMRazor's ``teacher_ckpt`` and an
``init_cfg=dict(type='Pretrained')`` both go through MMEngine's
``load_checkpoint(strict=False)``, which logs a mismatch and keeps random
weights. Here every key that loads a teacher is loaded at build, on CPU,
pickle-free, strictly, with the file's sha256 logged:

* ``model.teacher_ckpt`` (the algorithm's own key, also MMRazor's; a local
  file or an ``http(s)://`` URL, downloaded once and loaded as a file);
* ``model.teacher.init_cfg=dict(type='Pretrained', checkpoint=...)``
  (a whole-classifier or bare-backbone checkpoint);
* ``model.teacher.backbone.init_cfg=dict(type='Pretrained', ...)``, with
  MMEngine's optional ``prefix`` (only keys under it, without it); the
  teacher's other parameters (neck, head) must then be loaded too, or the
  build names them.

The digest of the loaded tensors (:func:`state_dict_digest`) is recorded,
and whenever the algorithm's weights are loaded again (``--resume``,
``load_from``) the teacher's tensors are compared with it: a teacher that
changed stops the run, naming both digests.
"""
import copy
import logging
from typing import List, NamedTuple, Optional, Tuple, Union

from mmengine.logging import print_log
from torch import nn

from ...checkpoint import load_state_dict_checked, state_dict_digest

#: The start of the warning logged when no key loads the teacher.
NO_TEACHER_CHECKPOINT = 'no checkpoint loads the teacher'


class TeacherSource(NamedTuple):
    """One file that loads (part of) the teacher."""
    checkpoint: str
    target: str  # '' (the whole teacher) or 'backbone'
    prefix: str  # keep only checkpoint keys under this prefix ('' = all)
    key: str  # the config key, for messages


def _is_pretrained(cfg) -> bool:
    return isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'


def _take_pretrained(owner: dict, key: str) -> Optional[TeacherSource]:
    """Remove a ``Pretrained`` init_cfg (or list entry) from ``owner``."""
    init_cfg = owner.get('init_cfg')
    entries = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    found = [e for e in entries if _is_pretrained(e)]
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(f'{key}.init_cfg lists {len(found)} Pretrained '
                         'entries; keep one')
    if not found[0].get('checkpoint'):
        raise ValueError(f"{key}.init_cfg=dict(type='Pretrained') has no "
                         'checkpoint; set its checkpoint path')
    rest = [e for e in entries if not _is_pretrained(e)]
    owner['init_cfg'] = (rest if isinstance(init_cfg, list) and rest else
                         None)
    prefix = found[0].get('prefix') or ''
    return TeacherSource(
        checkpoint=found[0]['checkpoint'],
        target='backbone' if key.endswith('.backbone') else '',
        prefix=prefix + '.' if prefix and not prefix.endswith('.') else
        prefix,
        key=f'{key}.init_cfg.checkpoint')


def take_teacher_sources(
        teacher: Union[dict, nn.Module], teacher_ckpt: Optional[str],
        who: str) -> Tuple[Union[dict, nn.Module], List[TeacherSource]]:
    """The teacher config without its ``Pretrained`` init_cfgs (so MMEngine
    never loads them non-strictly), and every file that loads it, in the
    order they apply: the init_cfgs (backbone first), or ``teacher_ckpt``
    alone when it is set (it overwrites the whole teacher, so the
    init_cfgs' files are not read).

    Args:
        teacher: ``model.teacher`` (a config dict, or a built model whose
            weights are its own).
        teacher_ckpt: ``model.teacher_ckpt``.
        who: The algorithm's name, for messages.
    """
    sources = []
    if isinstance(teacher, dict):
        teacher = copy.deepcopy(teacher)
        backbone = teacher.get('backbone')
        if isinstance(backbone, dict):
            found = _take_pretrained(backbone, f'{who}: model.teacher'
                                     '.backbone')
            sources += [found] if found else []
        found = _take_pretrained(teacher, f'{who}: model.teacher')
        sources += [found] if found else []
    if teacher_ckpt:  # the whole teacher: earlier init_cfgs never apply
        sources = [
            TeacherSource(teacher_ckpt, '', '', f'{who}: model.teacher_ckpt')
        ]
    return teacher, sources


def _not_loaded(teacher: nn.Module, sources: List[TeacherSource]) -> List[str]:
    """Teacher parameters and buffers no source covers."""
    if any(s.target == '' for s in sources):
        return []
    return [k for k in teacher.state_dict()
            if not k.startswith('backbone.')
            and not k.endswith('num_batches_tracked')]


def load_teacher(teacher: nn.Module, sources: List[TeacherSource],
                 who: str) -> Tuple[Optional[str], Optional[str]]:
    """Load every source strictly into ``teacher``.

    Returns:
        tuple: The digest of the teacher's tensors and the sha256 of the
        last file loaded, or ``(None, None)`` when no file loads it (a
        warning says so).

    Raises:
        KeyError: a file does not match its target key for key and shape
            (from :func:`load_state_dict_checked`), or a backbone-only
            checkpoint leaves other teacher weights unloaded.
    """
    if not sources:
        print_log(
            f'{who}: {NO_TEACHER_CHECKPOINT} (model.teacher_ckpt, '
            'model.teacher.init_cfg and model.teacher.backbone.init_cfg '
            'are all unset): it keeps its initial weights',
            logger='current',
            level=logging.WARNING)
        return None, None
    for source in sources:
        module = teacher.backbone if source.target else teacher
        sha256 = load_state_dict_checked(
            module,
            source.checkpoint,
            who=source.key,
            prefixes=('', ) if source.target else ('', 'backbone.'),
            select=source.prefix,
            hint='check model.teacher (type, backbone, num_classes)')
        module._is_init = True
    unloaded = _not_loaded(teacher, sources)
    if unloaded:
        raise KeyError(
            f'{who}: model.teacher.backbone.init_cfg loads only the '
            f'backbone; {len(unloaded)} other teacher weights (first '
            f'{unloaded[:3]}) would stay at their initial values. Load the '
            'whole teacher: model.teacher_ckpt, or init_cfg at '
            'model.teacher level')
    teacher._is_init = True
    return state_dict_digest(teacher.state_dict()), sha256


def watch_teacher(algorithm: nn.Module, digest: Optional[str],
                  who: str) -> None:
    """After every later load of ``algorithm``'s weights (``--resume``,
    ``load_from``), compare ``algorithm.teacher`` with ``digest``.

    Raises (from the load):
        RuntimeError: the teacher's tensors changed; names both digests.
    """
    algorithm.teacher_digest = digest
    if digest is None:
        return

    def check(module: nn.Module, incompatible_keys) -> None:
        now = state_dict_digest(module.teacher.state_dict())
        if now != module.teacher_digest:
            raise RuntimeError(
                f'{who}: the checkpoint just loaded changes the teacher: '
                f'its tensors have digest {now}, but the teacher loaded at '
                f'build (model.teacher_ckpt / init_cfg) has '
                f'{module.teacher_digest}. The checkpoint is corrupted or '
                'comes from another teacher; resume from a checkpoint of '
                'this run, or set model.teacher_ckpt to that teacher')

    algorithm.register_load_state_dict_post_hook(check)

"""A student-only checkpoint from an MMRazor distillation checkpoint.

MMRazor distillation checkpoints hold the whole algorithm (``architecture.*``
= the student, ``teacher.*``, optimizer state, message hub).
:func:`export_student` keeps the student's weights under MMPretrain's usual
key names (``backbone.*``, ``neck.*``, ``head.*``) plus plain metadata,
loadable with ``weights_only=True`` by ``tools/test.py STUDENT_CONFIG OUT``,
MMPretrain's ``init_model``/``load_from`` or
``init_cfg=dict(type='Pretrained')``.
"""
import os.path as osp
from typing import Dict

import torch

from .safe_load import file_sha256, safe_torch_load
from .state_dict import select_prefix

STUDENT_PREFIX = 'architecture.'


def export_student(src: str, dst: str, prefix: str = STUDENT_PREFIX) -> Dict:
    """Extract the ``prefix``-keyed weights of ``src`` into ``dst``.

    Args:
        src (str): A distillation checkpoint (read pickle-free).
        dst (str): Where to write the student checkpoint.
        prefix (str): Key prefix of the student. Defaults to
            ``'architecture.'`` (MMRazor's name for the student).

    Returns:
        dict: The saved checkpoint.

    Raises:
        KeyError: ``src`` has no key starting with ``prefix``.
    """
    checkpoint = safe_torch_load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = select_prefix(state_dict, prefix)
    if not student:
        raise KeyError(
            f'export_student: {src} has no key starting with {prefix!r} '
            f'(first keys: {list(state_dict)[:3]}); is it an MMRazor '
            'distillation checkpoint? Use --prefix for other layouts')
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    exported = dict(
        state_dict=student,
        meta=dict(
            source=osp.basename(src),
            source_sha256=file_sha256(src),
            source_prefix=prefix,
            iter=int(meta.get('iter', -1)),
            epoch=int(meta.get('epoch', -1)),
            dataset_meta={
                k: list(v) if isinstance(v, (list, tuple)) else str(v)
                for k, v in (meta.get('dataset_meta') or {}).items()
            }))
    torch.save(exported, dst)
    return exported

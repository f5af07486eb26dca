"""Write a student-only checkpoint that MMPretrain loads directly.

MMRazor distillation checkpoints hold the whole algorithm (``architecture.*``
= the student, ``teacher.*``, optimizer state, message hub). This keeps the
student's weights under MMPretrain's usual key names (``backbone.*``,
``neck.*``, ``head.*``) plus plain metadata, loadable with
``weights_only=True``, by ``tools/test.py STUDENT_CONFIG OUT``, MMPretrain's
``init_model``/``load_from`` or ``init_cfg=dict(type='Pretrained')``.

Example::

    python tools/export_student.py work_dirs/kdiga_x/iter_78200.pth \
        work_dirs/kdiga_x/student.pth
"""
import argparse
import os.path as osp
from collections import OrderedDict

import torch

import kdiga_mmrazor  # noqa: F401  (safe loading)
from kdiga_mmrazor.compat import file_sha256, safe_torch_load

STUDENT_PREFIX = 'architecture.'


def export_student(src: str, dst: str, prefix: str = STUDENT_PREFIX) -> dict:
    """Extract ``prefix``-keyed weights of ``src`` into ``dst``.

    Returns:
        dict: The saved checkpoint.

    Raises:
        KeyError: ``src`` has no key starting with ``prefix``.
    """
    checkpoint = safe_torch_load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = OrderedDict(
        (k[len(prefix):], v) for k, v in state_dict.items()
        if k.startswith(prefix) and isinstance(v, torch.Tensor))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='student-only checkpoint to write')
    parser.add_argument(
        '--prefix',
        default=STUDENT_PREFIX,
        help='key prefix of the student (default: %(default)s)')
    args = parser.parse_args()
    exported = export_student(args.src, args.dst, args.prefix)
    print(f'wrote {args.dst}: {len(exported["state_dict"])} tensors '
          f'(sha256 {file_sha256(args.dst)})')


if __name__ == '__main__':
    main()

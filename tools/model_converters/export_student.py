"""Write a student-only checkpoint that MMPretrain loads directly.

A thin command line over :func:`kdiga_mmrazor.checkpoint.export_student`:
MMRazor distillation checkpoints hold the whole algorithm; the output keeps
the student's weights under MMPretrain's key names plus plain metadata.

Example::

    python tools/model_converters/export_student.py \\
        work_dirs/kdiga_x/iter_78200.pth work_dirs/kdiga_x/student.pth
"""
import argparse

import kdiga_mmrazor  # noqa: F401  (safe loading)
from kdiga_mmrazor.checkpoint import export_student, file_sha256
from kdiga_mmrazor.checkpoint.export import STUDENT_PREFIX


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='student-only checkpoint to write')
    parser.add_argument(
        '--prefix',
        default=STUDENT_PREFIX,
        help='key prefix of the student (default: %(default)s)')
    args = parser.parse_args(argv)
    exported = export_student(args.src, args.dst, args.prefix)
    print(f'wrote {args.dst}: {len(exported["state_dict"])} tensors '
          f'(sha256 {file_sha256(args.dst)})')


if __name__ == '__main__':
    main()

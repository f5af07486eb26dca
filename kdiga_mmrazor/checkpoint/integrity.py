"""Is a checkpoint what was saved? Its bytes, then its tensors.

* :func:`verify_torch_zip`: a ``torch.save`` zip must have its central
  directory (a cut file has none: a job killed while saving, a full disk,
  a cut download), be a torch checkpoint (``data.pkl``, not TorchScript),
  and every entry must match the CRC-32 the zip stores for it. torch
  itself never checks those CRCs, so flipped bits in a tensor's bytes
  would otherwise load as different weights.
* :func:`verify_state_dict_digest`: a checkpoint whose ``meta`` records
  ``state_dict_digest`` (written by
  :class:`~kdiga_mmrazor.engine.hooks.CheckpointDigestHook`) must still
  have those tensors: an edited or damaged file of any format is refused.
"""
import re
import struct
import zipfile
import zlib
from typing import Any, Mapping, Optional, Tuple

from .digest import state_dict_digest
from .errors import CheckpointDigestError, CorruptCheckpointError

DIGEST_KEY = 'state_dict_digest'
CHUNK = 1 << 22
INTACT_COPY = 'use an intact copy (re-save, re-copy or re-download it)'
# What :mod:`zipfile` raises on damaged bytes (a damaged version field
# reads as an unsupported zip version, a damaged flag as encryption).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
              zlib.error, NotImplementedError, RuntimeError, ValueError,
              KeyError, IndexError, OverflowError, struct.error)


def _entry_role(name: str) -> str:
    if name.endswith('/data.pkl'):
        return 'the pickle that lays out the checkpoint'
    if re.search(r'/data/[^/]+$', name):
        return 'the raw bytes of a tensor storage'
    return 'torch metadata'


def _open_zip(path: str) -> Tuple[Optional[zipfile.ZipFile], str]:
    try:
        return zipfile.ZipFile(path), ''
    except ZIP_ERRORS as error:
        return None, f'{type(error).__name__}: {error}'


def _first_bad_entry(archive: zipfile.ZipFile) -> Optional[Tuple[str, str]]:
    for info in archive.infolist():
        try:
            with archive.open(info) as entry:
                while entry.read(CHUNK):
                    pass
        except ZIP_ERRORS as error:
            return info.filename, f'{type(error).__name__}: {error}'
    return None


def verify_torch_zip(path: str) -> None:
    """Refuse a torch zip checkpoint that is cut, foreign or damaged.

    Raises:
        CorruptCheckpointError: ``path`` has no readable central directory,
            has no ``data.pkl`` (or is TorchScript), or an entry fails its
            CRC-32 (the message names the entry).
    """
    archive, detail = _open_zip(path)
    if archive is None:
        raise CorruptCheckpointError(
            f'checkpoint {path!r} is a truncated or damaged zip archive '
            f'(the torch.save format): {detail}. Its save was interrupted '
            '(a killed job, a full disk) or its copy was cut short; '
            f'{INTACT_COPY}')
    with archive:
        names = archive.namelist()
        if any(n.endswith('constants.pkl') for n in names):
            problem = ('is a TorchScript archive (torch.jit.save), a '
                       'program rather than weights; save its state_dict() '
                       'with torch.save in a trusted environment and load '
                       'that file')
        elif not any(n == 'data.pkl' or n.endswith('/data.pkl')
                     for n in names):
            problem = (f'is a zip archive but not a torch checkpoint (no '
                       f'data.pkl; entries {names[:4]}); check the path')
        else:
            problem = ''
        bad = None if problem else _first_bad_entry(archive)
    if problem:
        raise CorruptCheckpointError(f'checkpoint {path!r} {problem}')
    if bad is not None:
        name, detail = bad
        raise CorruptCheckpointError(
            f'checkpoint {path!r} is damaged: zip entry {name!r} '
            f'({_entry_role(name)}) fails its check ({detail}). The file '
            f'changed after it was saved (a bad disk, copy or transfer); '
            f'{INTACT_COPY}')


def data_pickle(path: str) -> bytes:
    """The bytes of a torch zip checkpoint's ``data.pkl`` (``b''`` if
    there is none)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name == 'data.pkl' or name.endswith('/data.pkl'):
                return archive.read(name)
    return b''


def verify_state_dict_digest(checkpoint: Any, path: str) -> None:
    """Refuse ``checkpoint`` if its tensors differ from the digest its
    ``meta`` records (checkpoints without one pass).

    Raises:
        CheckpointDigestError: the recomputed digest differs, or ``meta``
            records one but there is no ``state_dict``.
    """
    if not isinstance(checkpoint, Mapping):
        return
    meta = checkpoint.get('meta')
    if not isinstance(meta, Mapping) or DIGEST_KEY not in meta:
        return
    recorded = meta[DIGEST_KEY]
    state_dict = checkpoint.get('state_dict')
    if not isinstance(state_dict, Mapping):
        raise CheckpointDigestError(
            f'checkpoint {path!r} records meta.{DIGEST_KEY} but has no '
            f'state_dict to check it against; {INTACT_COPY}')
    actual = state_dict_digest(state_dict)
    if actual != recorded:
        raise CheckpointDigestError(
            f'checkpoint {path!r} does not hold the weights it was saved '
            f'with: its state_dict digest is {actual}, meta.{DIGEST_KEY} '
            f'recorded {recorded}. The tensors were edited or damaged after '
            f'saving; {INTACT_COPY} (after an intended edit, delete '
            f"meta['{DIGEST_KEY}'] and save it again)")

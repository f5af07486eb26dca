"""torch's load failures as this package's errors, each naming the file.

torch's weights-only reader raises ``UnpicklingError`` both for a pickle
that asks for code and for one it merely cannot read (a cut file, another
pickle protocol, damaged bytes), and advises turning ``weights_only`` off.
:func:`refusal_error` tells them apart with :mod:`.pickle_scan`: a cut
pickle, or one whose disallowed globals cannot exist, is a
:class:`CorruptCheckpointError`; a whole pickle naming a global torch
refuses is an :class:`UnsafeCheckpointError`; any other is corrupt.
:func:`read_error` covers failures while reading (truncated storages,
missing records). :func:`torch_error_detail` keeps torch's reason and
drops its advice.
"""
import re
import struct

from .errors import CorruptCheckpointError, UnsafeCheckpointError
from .formats import PICKLE, TORCH_ZIP
from .integrity import data_pickle
from .pickle_scan import (
    PickleScan,
    cannot_exist,
    disallowed,
    opcode_name,
    scan_pickles,
)

# Phrases of torch's weights-only messages that refuse a global (other
# refusals, to call or build what is not a global, are malformed pickles
# unless the pickle names a disallowed global).
REFUSALS = ('unsupported global', 'is blocked', 'not an MMEngine statistics',
            'must be imported to load')
# Lines of torch's messages that advise turning weights_only off.
TORCH_ADVICE = ('weights_only', 'weights only load failed',
                'check the documentation', 'trusted source', 'file an issue')
# Bytes of a file a failed load disassembles to list the globals it names.
SCAN_BYTES = 64 << 20
# What a reader of a damaged file raises (truncated pickles, missing
# records, bad sizes).
READ_ERRORS = (RuntimeError, EOFError, KeyError, ValueError, IndexError,
               TypeError, AttributeError, OSError, struct.error,
               OverflowError, AssertionError)


def torch_error_detail(text: str) -> str:
    """What torch's error says went wrong, without its advice to set
    ``weights_only`` to False."""
    found = re.search(r'unsupported global:? (GLOBAL )?[\w.]+', text,
                      flags=re.IGNORECASE)
    if found:
        return found.group(0)
    lines = text.replace('WeightsUnpickler error:', '\n').splitlines()
    kept = [
        line.strip() for line in lines if line.strip() and not any(
            phrase in line.lower() for phrase in TORCH_ADVICE)
    ]
    if not kept:
        return 'no detail'
    operand = re.fullmatch(r'Unsupported operand (\d+)', kept[0])
    if operand:
        return f'{kept[0]} ({opcode_name(int(operand.group(1)))})'
    return kept[0][:300]


def _scan(path: str, fmt: str) -> PickleScan:
    if fmt == TORCH_ZIP:
        return scan_pickles(data_pickle(path), max_pickles=1)
    with open(path, 'rb') as f:
        data = f.read(SCAN_BYTES)
    return scan_pickles(data, whole=len(data) < SCAN_BYTES)


def _unsafe(path: str, detail: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f'refused to load checkpoint {path!r}: its pickle holds objects '
        f'that are not plain weights ({detail}). Loading it could run '
        'code from the file, so kdiga_mmrazor only loads checkpoints '
        'with weights_only=True. If you trust its source, re-save just '
        'its tensors (e.g. torch.save(ckpt["state_dict"], new_path)) in '
        'a sandbox and load that file instead.')


def refusal_error(path: str, fmt: str, text: str) -> Exception:
    """The error for torch's weights-only refusal (message ``text``) of
    ``path``, in format ``fmt``: a :class:`CorruptCheckpointError` for a
    cut or damaged pickle, or one that names no code, else an
    :class:`UnsafeCheckpointError`."""
    detail = torch_error_detail(text)
    scan = _scan(path, fmt)
    if scan.cut:
        return CorruptCheckpointError(
            f'checkpoint {path!r} ({fmt} format) is cut short: its pickle '
            f'ends before it is complete (torch stopped at: {detail}). Its '
            'save may have been interrupted or its copy cut short; use an '
            'intact copy (re-save, re-copy or re-download it)')
    names = disallowed(scan.globals)
    if names and all(cannot_exist(name) for name in names):
        return CorruptCheckpointError(
            f'checkpoint {path!r} ({fmt} format) is damaged: its pickle '
            f'names {", ".join(repr(n) for n in names[:3])}, which the '
            f'installed packages do not have (torch stopped at: {detail}); '
            'damaged bytes, or a file written with another version of '
            'them; use an intact copy (re-save, re-copy or re-download it)')
    if any(phrase.lower() in text.lower() for phrase in REFUSALS):
        return _unsafe(path, detail)
    if names:
        return _unsafe(path, f'it names {", ".join(names[:5])}; torch '
                       f'stopped at: {detail}')
    kind = ('its data.pkl' if fmt == TORCH_ZIP else
            'it is a pickle, but it')
    return CorruptCheckpointError(
        f'checkpoint {path!r} cannot be read: {kind} names no code, yet '
        f'torch cannot read it ({detail}). It is not a torch.save file, or '
        'it was written with an unusual pickle protocol, or it is damaged; '
        'save it again with torch.save (default protocol) or use an intact '
        'copy')


def read_error(path: str, fmt: str, error: Exception) -> Exception:
    """The error for a load of ``path`` that failed while reading (a
    :class:`CorruptCheckpointError`, or a ``RuntimeError`` for CUDA
    tensors on a machine without CUDA)."""
    detail = f'{type(error).__name__}: {torch_error_detail(str(error))}'
    if 'CUDA' in str(error) and 'is_available' in str(error):
        return RuntimeError(
            f'checkpoint {path!r} holds CUDA tensors and this machine has no '
            f"CUDA device ({detail}); load it with map_location='cpu'")
    if 'magic number' in str(error):
        return CorruptCheckpointError(
            f'checkpoint {path!r} is a pickle but not a torch.save file (no '
            f'torch magic number: {detail}); save the weights with '
            'torch.save, or use an intact copy')
    what = ('is cut short or damaged' if fmt == PICKLE else 'is damaged')
    return CorruptCheckpointError(
        f'checkpoint {path!r} ({fmt} format) {what}: torch could not read '
        f'it ({detail}). Its save may have been interrupted or its copy '
        'cut short; use an intact copy (re-save, re-copy or re-download '
        'it)')

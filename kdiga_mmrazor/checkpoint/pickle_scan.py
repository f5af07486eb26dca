"""What a pickle would import, read without running it.

When torch's weights-only reader stops at an operation it does not know
(e.g. ``FRAME`` of pickle protocol 4/5) it does not say whether the pickle
asks for code. :func:`pickle_globals` disassembles the stream with the
standard library's :mod:`pickletools` (parsing only, nothing is built or
imported) and lists every global it names (``GLOBAL``, ``INST``,
``STACK_GLOBAL``), and whether the data ends inside a pickle (a cut
file, whose last global name may be cut too); :func:`disallowed_globals`
keeps those that torch's weights-only reader would refuse, and
:func:`cannot_exist` tells a damaged name from a real one. A file is
called a pickle that could run code only when it is whole and names such
a global that may exist.
"""
import io
import pickletools
import sys
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from typing import BinaryIO, Dict, List, NamedTuple, Optional

# Legacy torch files are five pickles in a row (magic number, protocol,
# system info, the object, the storage keys), then raw tensor bytes.
MAX_PICKLES = 5
STRING_OPS = frozenset(
    ('STRING', 'BINSTRING', 'SHORT_BINSTRING', 'UNICODE', 'SHORT_BINUNICODE',
     'BINUNICODE', 'BINUNICODE8'))
GET_OPS = frozenset(('GET', 'BINGET', 'LONG_BINGET'))
PUT_OPS = frozenset(('PUT', 'BINPUT', 'LONG_BINPUT'))
UNKNOWN = '?'


def opcode_name(code: int) -> str:
    """The pickle opcode name of byte ``code`` (``149`` → ``'FRAME'``)."""
    for op in pickletools.opcodes:
        if ord(op.code) == code:
            return op.name
    return f'byte {code}'


def _python3_name(module: str, name: str = UNKNOWN) -> str:
    """``module.name`` as Python 3 (and torch) reads a protocol 0-2 global
    (``__builtin__.getattr`` is ``builtins.getattr``)."""
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    else:
        module = IMPORT_MAPPING.get(module, module)
    return f'{module}.{name}'


def _scan_one(stream: BinaryIO, found: List[str]) -> None:
    recent: List[Optional[str]] = []  # values pushed, strings or None
    memo: Dict[int, Optional[str]] = {}
    for op, arg, _ in pickletools.genops(stream):
        if op.name in STRING_OPS:
            recent.append(arg if isinstance(arg, str) else None)
        elif op.name in GET_OPS:
            recent.append(memo.get(arg))
        elif op.name in PUT_OPS:
            memo[arg] = recent[-1] if recent else None
        elif op.name == 'MEMOIZE':
            memo[len(memo)] = recent[-1] if recent else None
        elif op.name in ('GLOBAL', 'INST'):
            found.append(_python3_name(*str(arg).split(' ', 1)))
            recent.append(None)
        elif op.name == 'STACK_GLOBAL':
            module, name = ([None, None] + recent)[-2:]
            found.append(f'{module or UNKNOWN}.{name or UNKNOWN}')
            recent.append(None)
        elif op.name != 'FRAME':
            recent.append(None)


class PickleScan(NamedTuple):
    """What :func:`scan_pickles` found."""
    globals: List[str]  # ``module.name``, in order, each once
    cut: bool  # the data ends inside a pickle (before its STOP)


def scan_pickles(data: bytes, max_pickles: int = MAX_PICKLES,
                 whole: bool = True) -> PickleScan:
    """Disassemble up to ``max_pickles`` consecutive pickles at the start
    of ``data`` (stopping at the first bytes that are not one, such as raw
    tensor data), without building or importing anything.

    Args:
        data (bytes): The file's bytes (or its first bytes).
        max_pickles (int): How many pickles in a row to read.
        whole (bool): ``data`` is the whole file, so a pickle that runs
            past its end is cut short.
    """
    stream = io.BytesIO(data)
    found: List[str] = []
    cut = False
    for _ in range(max_pickles):
        if stream.tell() >= len(data):
            break
        try:
            _scan_one(stream, found)
        except (ValueError, EOFError, KeyError, IndexError, TypeError,
                UnicodeDecodeError):
            cut = whole and stream.tell() >= len(data)
            break  # not (or no longer) a pickle
    return PickleScan(list(dict.fromkeys(found)), cut)


def pickle_globals(data: bytes, max_pickles: int = MAX_PICKLES) -> List[str]:
    """Every global (``module.name``) named by the pickles at the start of
    ``data`` (see :func:`scan_pickles`), in order, each once; ``'?'``
    where a name is computed."""
    return scan_pickles(data, max_pickles).globals


def allowed_global_names() -> frozenset:
    """Names torch's weights-only reader builds: its defaults and those
    added with ``torch.serialization.add_safe_globals``."""
    from torch import _weights_only_unpickler as unpickler
    return frozenset(unpickler._get_allowed_globals()) | frozenset(
        unpickler._get_user_allowed_globals())


def cannot_exist(name: str) -> bool:
    """Whether global ``module.name`` names nothing: a part of it is not an
    identifier, or the longest loaded module it starts with (not
    ``__main__``, without a module ``__getattr__``) lacks the rest.
    Nothing is imported to find out; a name in a package not loaded here,
    or one the scan could not read (``'?'``), may exist."""
    parts = name.split('.')
    if UNKNOWN in parts:
        return False
    if not all(part.isidentifier() for part in parts):
        return True
    for i in range(len(parts) - 1, 0, -1):
        module = sys.modules.get('.'.join(parts[:i]))
        if module is None:
            continue
        if module.__name__ == '__main__' or '__getattr__' in vars(module):
            return False
        obj = module
        for part in parts[i:]:
            if part not in getattr(obj, '__dict__', {}):
                return True
            obj = obj.__dict__[part]
        return False
    return False


def disallowed(names: List[str]) -> List[str]:
    """The globals among ``names`` that torch would refuse."""
    allowed = allowed_global_names()
    return [name for name in names if name not in allowed]


def disallowed_globals(data: bytes) -> List[str]:
    """The globals of :func:`pickle_globals` that torch would refuse."""
    return disallowed(pickle_globals(data))

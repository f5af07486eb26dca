"""Which format a checkpoint file is in, from its first bytes.

A file is read as what its content says, whatever its name:

* ``PK\\x03\\x04``: a zip archive (``torch.save``'s format since 1.6);
* ``\\x80`` (a pickle protocol byte) or torch's magic number pickled with
  protocol 0/1: a legacy ``torch.save`` file or another pickle;
* an 8-byte little-endian header length followed by ``{``: safetensors.

Anything else is refused by :func:`sniff_format` with a
:class:`CorruptCheckpointError` that names the file and says what it looks
like instead (empty, text, JSON, HTML, a Git LFS pointer, an image, a NumPy
file, compressed data, random bytes), before torch reads a byte of it.
"""
import json
import os.path as osp

from .errors import CorruptCheckpointError

TORCH_ZIP = 'torch zip'
PICKLE = 'pickle'
SAFETENSORS = 'safetensors'

ZIP_MAGIC = b'PK\x03\x04'
PICKLE_PROTO = 0x80
# torch's legacy magic number 0x1950a86a20f9469cfc6c, pickled with protocol
# 0 or 1 (``torch.save(..., pickle_protocol=0)``)
LEGACY_TEXT_MAGIC = b'L119547037146038801333356L\n'
HEAD_BYTES = 4096
JSON_PARSE_LIMIT = 1 << 20
WHAT_LOADS = ('kdiga_mmrazor reads torch.save files (.pth, .pt, .ckpt) and '
              'safetensors files')

# (magic, offset, what it is, what to do)
SIGNATURES = (
    (b'\x93NUMPY', 0, 'a NumPy .npy array file (np.save)',
     'load it with numpy.load(path, allow_pickle=False) and torch.save the '
     'tensors'),
    (b'\xff\xd8\xff', 0, 'a JPEG image', 'check the path'),
    (b'\x89PNG\r\n\x1a\n', 0, 'a PNG image', 'check the path'),
    (b'GIF8', 0, 'a GIF image', 'check the path'),
    (b'\x1f\x8b', 0, 'gzip-compressed data', 'decompress it first'),
    (b'BZh', 0, 'bzip2-compressed data', 'decompress it first'),
    (b'\xfd7zXZ\x00', 0, 'xz-compressed data', 'decompress it first'),
    (b'7z\xbc\xaf\x27\x1c', 0, 'a 7-Zip archive', 'extract it first'),
    (b'PK\x05\x06', 0, 'an empty zip archive', 'use an intact copy'),
    (b'ustar', 257, 'a tar archive',
     'extract it first (a torch < 0.4 tar checkpoint must be re-saved with '
     'a current torch)'),
    (b'\x7fELF', 0, 'an executable (ELF)', 'check the path'),
    (b'%PDF', 0, 'a PDF document', 'check the path'),
    (b'version https://git-lfs', 0, 'a Git LFS pointer',
     'fetch the file it points to (git lfs pull)'),
)


def _safetensors_header(head: bytes, size: int) -> bool:
    if len(head) < 10 or head[8:9] != b'{':
        return False
    length = int.from_bytes(head[:8], 'little')
    if 2 <= length <= size - 8:
        return True
    # a header length past the end of the file: a truncated safetensors
    # file, unless the first 8 bytes are text (a JSON file, say)
    return not _is_text(head[:8])


def _is_text(data: bytes) -> bool:
    if b'\x00' in data:
        return False
    for cut in range(4):  # a multi-byte character may be cut at the end
        try:
            text = data[:len(data) - cut].decode('utf-8')
        except UnicodeDecodeError:
            continue
        return all(c.isprintable() or c in '\t\n\r\f\v' for c in text)
    return False


def _describe_text(path: str, head: bytes, size: int) -> str:
    text = head.decode('utf-8', errors='replace').lstrip('\ufeff \t\r\n')
    start = text[:40].splitlines()[0] if text.strip() else ''
    if text[:1] == '<' and 'html' in text[:512].lower():
        kind = 'an HTML page (a download that returned a web page?)'
    elif text[:1] in '{[':
        kind = 'text starting like JSON'
        if size <= JSON_PARSE_LIMIT:
            try:
                with open(path, 'rb') as f:
                    json.loads(f.read().decode('utf-8'))
                kind = 'a JSON file'
            except ValueError:
                pass
    else:
        kind = 'a text file'
    return f'it is {kind} (starts with {start!r}), not a checkpoint'


def describe_content(path: str, head: bytes, size: int) -> str:
    """What a file that is not a checkpoint looks like, and what to do."""
    for magic, offset, kind, fix in SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return f'it is {kind}, not a checkpoint; {fix}'
    if _is_text(head):
        return _describe_text(path, head, size) + '; check the path'
    return (f'it is not in any checkpoint format (first bytes '
            f'{head[:8].hex(" ")}, {size} bytes in all); {WHAT_LOADS}, and '
            'a damaged or partly written file looks like this: use an '
            'intact copy')


def sniff_format(path: str) -> str:
    """:data:`TORCH_ZIP`, :data:`PICKLE` or :data:`SAFETENSORS`.

    Raises:
        CorruptCheckpointError: ``path`` is empty, or in none of these
            formats (the message says what it looks like).
    """
    size = osp.getsize(path)
    if size == 0:
        raise CorruptCheckpointError(
            f'checkpoint {path!r} is empty (0 bytes): its save or copy was '
            'interrupted; re-save it or use an intact copy')
    with open(path, 'rb') as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(ZIP_MAGIC):
        return TORCH_ZIP
    if head[0] == PICKLE_PROTO or head.startswith(LEGACY_TEXT_MAGIC):
        return PICKLE
    if _safetensors_header(head, size):
        return SAFETENSORS
    raise CorruptCheckpointError(
        f'checkpoint {path!r} cannot be loaded: '
        f'{describe_content(path, head, size)}')

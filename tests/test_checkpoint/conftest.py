"""Checkpoint files to feed the loaders: damaged copies, pickles that
would run code (and leave a marker if they ever did)."""
import os
import zipfile

import torch


def entry_data_offset(path: str, suffix: str) -> int:
    """Where the stored bytes of the zip entry ending in ``suffix`` start
    (after its local header)."""
    with zipfile.ZipFile(path) as archive:
        (info, ) = [i for i in archive.infolist()
                    if i.filename.endswith(suffix)]
    with open(path, 'rb') as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len = int.from_bytes(header[26:28], 'little')
    extra_len = int.from_bytes(header[28:30], 'little')
    return info.header_offset + 30 + name_len + extra_len


def flip_byte(path: str, offset: int) -> None:
    """Invert every bit of the byte at ``offset`` of ``path``, in place."""
    with open(path, 'r+b') as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def flip_in_entry(path: str, suffix: str = 'data/0', at: int = 5) -> str:
    """Flip byte ``at`` of the zip entry ending in ``suffix`` (by default
    the first tensor storage); returns the entry's name."""
    flip_byte(path, entry_data_offset(path, suffix) + at)
    with zipfile.ZipFile(path) as archive:
        (name, ) = [n for n in archive.namelist() if n.endswith(suffix)]
    return name


def truncate(path: str, fraction: float = 0.5) -> None:
    """Keep only the first ``fraction`` of ``path`` (a killed save)."""
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(int(size * fraction))


class RunsOnLoad:
    """Pickles to ``os.system('touch MARKER')``: the marker file appears
    if the pickle ever runs."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def weights(n: int = 64, seed: int = 0) -> dict:
    """A small state dict of float and integer tensors."""
    gen = torch.Generator().manual_seed(seed)
    return {
        'conv.weight': torch.randn(n, generator=gen).reshape(4, -1),
        'conv.bias': torch.randn(4, generator=gen),
        'bn.num_batches_tracked': torch.tensor(3),
    }

"""Per-sample random streams: the noise an image gets depends only on the
certifier's seed and the image's dataset index.

The Gaussian noise of randomized smoothing is drawn from a generator of
its own for each sample, seeded by a hash of ``(seed, sample_idx)``, so a
sample's counts are the same whichever dataloader batch holds it, at
whatever position, on whichever rank, with any world size (for the same
device type and ``batch_size`` of noisy copies per forward, which fix
how the stream is cut).
"""
import hashlib

import torch


def sample_seed(seed: int, sample_idx: int) -> int:
    """A 63-bit seed from ``(seed, sample_idx)`` (SHA-256, the same on
    every platform and Python run, unlike ``hash``)."""
    digest = hashlib.sha256(
        f'randomized-smoothing:{int(seed)}:{int(sample_idx)}'.encode())
    return int.from_bytes(digest.digest()[:8], 'little') & (2**63 - 1)


def sample_generator(seed: int, sample_idx: int,
                     device: torch.device) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded by
    :func:`sample_seed`."""
    gen = torch.Generator(device=device)
    gen.manual_seed(sample_seed(seed, sample_idx))
    return gen

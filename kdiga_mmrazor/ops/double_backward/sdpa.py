"""Scaled-dot-product attention that supports double backprop.

Fused ``F.scaled_dot_product_attention`` kernels (flash, memory-efficient,
the CPU flash kernel) implement no double backward, so an input-gradient
penalty through a ViT fails with "derivative ... not implemented". The math
backend is made of differentiable primitives.
"""
from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def sdpa_math_kernel() -> Iterator[None]:
    """Restrict SDPA to its math backend for the duration (restored after).
    """
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # torch < 2.3
        context = torch.backends.cuda.sdp_kernel(
            enable_flash=False, enable_math=True, enable_mem_efficient=False)
    else:
        context = sdpa_kernel(SDPBackend.MATH)
    with context:
        yield

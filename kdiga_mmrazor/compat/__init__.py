"""Compatibility shims, applied when ``kdiga_mmrazor`` is imported.

* :mod:`.mmrazor_quantization`: ``import mmrazor.models`` on torch >= 2.
* :mod:`.safe_checkpoint`: ``weights_only=True`` loading for every local
  checkpoint, with MMEngine's own types allow-listed (``--resume``).
* :mod:`.cpu_distributed`: MMEngine's PyTorch launcher without a GPU
  (DDP on CPU with gloo, e.g. ``torchrun`` tests).
"""
from .cpu_distributed import cpu_ddp_cfg, patch_cpu_distributed
from .mmrazor_quantization import (
    MMRazorQuantizationUnavailable,
    patch_mmrazor_quantization,
    quantization_available,
)
from .safe_checkpoint import (
    UnsafeCheckpointError,
    file_sha256,
    install_safe_checkpoint_loading,
    safe_torch_load,
)

patch_mmrazor_quantization()
install_safe_checkpoint_loading()
patch_cpu_distributed()

__all__ = [
    'MMRazorQuantizationUnavailable', 'UnsafeCheckpointError', 'cpu_ddp_cfg',
    'file_sha256', 'patch_cpu_distributed',
    'install_safe_checkpoint_loading', 'patch_mmrazor_quantization',
    'quantization_available', 'safe_torch_load'
]

"""Compatibility shims, applied when ``kdiga_mmrazor`` is imported.

* :mod:`.mmrazor_quantization`: ``import mmrazor.models`` on torch >= 2.
* :mod:`.cpu_distributed`: MMEngine's PyTorch launcher without a GPU
  (DDP on CPU with gloo, e.g. ``torchrun`` tests).
* :mod:`.private_apis`: every private upstream API the package touches,
  with the versions it was checked against.
* Safe checkpoint loading (:mod:`kdiga_mmrazor.checkpoint.safe_load`) is
  installed into MMEngine's ``CheckpointLoader`` here too.
"""
from ..checkpoint.safe_load import install_safe_checkpoint_loading
from .cpu_distributed import cpu_ddp_cfg, patch_cpu_distributed
from .mmrazor_quantization import (
    MMRazorQuantizationUnavailable,
    patch_mmrazor_quantization,
    quantization_available,
)

patch_mmrazor_quantization()
install_safe_checkpoint_loading()
patch_cpu_distributed()

__all__ = [
    'MMRazorQuantizationUnavailable', 'cpu_ddp_cfg', 'patch_cpu_distributed',
    'patch_mmrazor_quantization', 'quantization_available'
]

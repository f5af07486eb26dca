"""Autograd operators that KDIGA's second-order step needs.

* :mod:`.double_backward`: closed-form double backwards of convolution,
  training-mode BatchNorm, LayerNorm and GELU, the torch-function mode that
  routes a forward pass through them, and the SDPA kernel choice that lets
  attention be differentiated twice.
"""
from .double_backward import FastDoubleBackward, sdpa_math_kernel

__all__ = ['FastDoubleBackward', 'sdpa_math_kernel']

"""Closed-form double backwards for the student's input-gradient pass.

KDIGA differentiates the student's input gradient
:math:`g_s = \\nabla_x \\mathrm{CE}(f_s(x), y)` (taken with
``create_graph=True``) once more, with respect to the parameters. This
subpackage makes that second backward cheaper without changing a number.

Contract:

* **Same numbers as PyTorch.** Outputs and first and second derivatives
  equal PyTorch's own kernels (tested with ``gradcheck``/``gradgradcheck``
  and against PyTorch in float64 on whole networks).
* **Second order only.** A third derivative through BatchNorm or LayerNorm
  is refused with a clear error (PyTorch refuses one for BatchNorm and
  answers wrongly for LayerNorm); convolution and GELU support it.
* **Fallbacks.** :class:`FastDoubleBackward` (:mod:`.mode`) intercepts
  ``F.conv1d/2d/3d``, training-mode ``F.batch_norm``, ``F.layer_norm`` and
  exact ``F.gelu`` only when no grad mode, autocast or mixed dtype stands in
  the way; everything else (no grad, eval-mode or single-value BatchNorm,
  string padding, unbatched input, a LayerNorm over the whole tensor, tanh
  GELU, ``--amp``, ``SyncBatchNorm`` across processes, every other layer)
  runs on PyTorch's kernels unchanged.

Modules: :mod:`.mode` (the torch-function mode), :mod:`.conv`,
:mod:`.batch_norm`, :mod:`.layer_norm`, :mod:`.gelu` (one closed form each,
the maths in its docstring), :mod:`.engine` (asks the autograd engine
which gradients a backward will use) and :mod:`.sdpa` (attention on SDPA's
math kernel, the only one with a double backward).
"""
from .batch_norm import batch_norm_train
from .conv import conv_nd
from .gelu import gelu
from .layer_norm import layer_norm
from .mode import FastDoubleBackward
from .sdpa import sdpa_math_kernel

__all__ = [
    'FastDoubleBackward', 'batch_norm_train', 'conv_nd', 'gelu',
    'layer_norm', 'sdpa_math_kernel'
]

"""Route convolutions, training-mode BatchNorm, LayerNorm and GELU through
closed-form double backwards while building a graph that will be
differentiated twice.

Used around the student's forward pass when its input gradient is taken
with ``create_graph=True``. The results and all derivatives are the same as
PyTorch's (tests compare them in float64); only the cost of the second
backward changes. Calls this does not cover go to PyTorch unchanged: no
grad, eval-mode BatchNorm, one value per BatchNorm channel, string padding,
unbatched input, a LayerNorm over the whole tensor, tanh GELU, autocast
(``--amp``), mixed dtypes, or ``SyncBatchNorm`` across processes.
"""
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from .batch_norm import batch_norm_train
from .conv import conv_nd
from .gelu import gelu
from .layer_norm import layer_norm

_CONVS = {F.conv1d: 1, F.conv2d: 2, F.conv3d: 3}
_FLOATS = (torch.float32, torch.float64)


def _autocast_on(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4
        if device_type == 'cpu':
            return torch.is_autocast_cpu_enabled()
        return torch.is_autocast_enabled()


def _plain_float(*tensors: Optional[torch.Tensor]) -> bool:
    """All given tensors share one fp32/fp64 dtype, autocast is off, and
    the graph is being recorded."""
    given = [t for t in tensors if t is not None]
    return (torch.is_grad_enabled()
            and len({t.dtype for t in given}) == 1
            and given[0].dtype in _FLOATS
            and not _autocast_on(given[0].device.type))


def _conv(dims: int, input, weight, bias=None, stride=1, padding=0,
          dilation=1, groups=1):
    if (input.dim() != dims + 2 or isinstance(padding, str)
            or not _plain_float(input, weight, bias)):
        return None
    return conv_nd(input, weight, bias, stride, padding, dilation, groups)


def _batch_norm(input, running_mean, running_var, weight=None, bias=None,
                training=False, momentum=0.1, eps=1e-5):
    if (not training or momentum is None or input.dim() < 2
            or input.numel() == input.shape[1]  # PyTorch's own error
            or not _plain_float(input, weight, bias)):
        return None
    return batch_norm_train(input, running_mean, running_var, weight, bias,
                            momentum, eps)


def _gelu(input, approximate='none'):
    if approximate != 'none' or not _plain_float(input):
        return None
    return gelu(input)


def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if (isinstance(normalized_shape, int)
            or input.dim() <= len(normalized_shape)  # no rows
            or not _plain_float(input, weight, bias)):
        return None
    return layer_norm(input, normalized_shape, weight, bias, eps)


class FastDoubleBackward(TorchFunctionMode):
    """Context manager: inside it, ``F.conv{1,2,3}d``, training-mode
    ``F.batch_norm``, ``F.layer_norm`` and exact ``F.gelu`` build graphs
    with the closed-form double backwards of the ``*_double_backward``
    modules next to this one."""

    def __torch_function__(self, func: Callable, types, args=(),
                           kwargs=None):
        kwargs = kwargs or {}
        out = None
        if func in _CONVS:
            out = _conv(_CONVS[func], *args, **kwargs)
        elif func is F.batch_norm:
            out = _batch_norm(*args, **kwargs)
        elif func is F.gelu:
            out = _gelu(*args, **kwargs)
        elif func is F.layer_norm:
            out = _layer_norm(*args, **kwargs)
        if out is None:
            out = func(*args, **kwargs)
        return out

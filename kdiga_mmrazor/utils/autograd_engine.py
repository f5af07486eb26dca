"""What the running backward pass needs from a custom autograd Function."""
import warnings
from typing import Any

import torch

_will_execute = getattr(torch._C, '_will_engine_execute_node', None)


def grad_needed(ctx: Any, index: int) -> bool:
    """Whether the backward pass now running uses the gradient of input
    ``index`` of a custom ``autograd.Function`` (called in its
    ``backward``).

    ``ctx.needs_input_grad`` only says whether the input requires grad:
    ``loss.backward(inputs=[x])`` on a graph whose weights require grad
    still says True for the weights. The engine knows which nodes it will
    run (``torch.autograd.graph.register_multi_grad_hook`` asks it the same
    way). It cannot answer for a leaf inside ``torch.autograd.grad``, nor
    without that private hook: then this says True (computed, maybe unused).
    """
    if not ctx.needs_input_grad[index]:
        return False
    node = ctx.next_functions[index][0]
    if node is None or _will_execute is None:
        return True
    try:
        return bool(_will_execute(node))
    except RuntimeError:  # a leaf, inside torch.autograd.grad
        return True


def input_gradient(output: torch.Tensor,
                   x: torch.Tensor,
                   create_graph: bool = False) -> torch.Tensor:
    """``torch.autograd.grad(output, x)`` for a leaf ``x``, run as
    ``output.backward(inputs=[x])`` so that :func:`grad_needed` can tell
    custom Functions to skip the weight gradients nobody reads."""
    if not x.is_leaf:
        raise ValueError('input_gradient: x must be a leaf tensor')
    previous, x.grad = x.grad, None
    with warnings.catch_warnings():
        # the cycle it warns about is broken below (x.grad reset)
        warnings.filterwarnings(
            'ignore', message='Using backward\\(\\) with create_graph=True')
        torch.autograd.backward(output, inputs=[x], create_graph=create_graph)
    grad, x.grad = x.grad, previous
    if grad is None:
        raise RuntimeError('input_gradient: the output does not depend on x')
    return grad

"""What the running backward pass needs from a custom autograd Function."""
from typing import Any

import torch

_will_execute = getattr(torch._C, '_will_engine_execute_node', None)


def remember_tensor_inputs(ctx: Any, *args: Any) -> None:
    """Call at the start of a custom Function's ``forward`` with all its
    arguments: the graph edges (``ctx.next_functions``) exist for tensor
    arguments only, so :func:`grad_needed` needs to know which those were.
    """
    positions, edge = {}, 0
    for index, arg in enumerate(args):
        if isinstance(arg, torch.Tensor):
            positions[index] = edge
            edge += 1
    ctx.edge_of_input = positions


def grad_needed(ctx: Any, index: int) -> bool:
    """Whether the backward pass now running uses the gradient of input
    ``index`` of a custom ``autograd.Function`` (called in its
    ``backward``).

    ``ctx.needs_input_grad`` only says whether the input requires grad:
    ``torch.autograd.grad(loss, x)`` on a graph whose weights require grad
    still says True for the weights. The engine knows which nodes it will
    run (``torch.autograd.graph.register_multi_grad_hook`` asks it the same
    way). It cannot answer for a leaf that ``torch.autograd.grad`` was asked
    for, nor without that private hook: then this says True (computed,
    maybe unused).
    """
    if not ctx.needs_input_grad[index]:
        return False
    edge = getattr(ctx, 'edge_of_input', {}).get(index)
    if edge is None:
        return True
    node = ctx.next_functions[edge][0]
    if node is None or _will_execute is None:
        return True
    try:
        return bool(_will_execute(node))
    except RuntimeError:  # a leaf, inside torch.autograd.grad
        return True


def refuse_third_order(name: str) -> None:
    """Raise if the double backward now running is itself recorded
    (``create_graph=True``): closed forms that treat the batch statistics
    as saved constants are exact to second order only."""
    if torch.is_grad_enabled():
        raise RuntimeError(
            f'{name}: third-order derivatives are not supported (PyTorch\'s '
            'own BatchNorm refuses them too); build the model outside '
            'FastDoubleBackward, e.g. model.fast_double_backward=False')

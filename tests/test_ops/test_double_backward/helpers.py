"""Helpers shared by the double-backward tests."""
import torch
from torch.utils._python_dispatch import TorchDispatchMode

f64 = dict(dtype=torch.float64)


def grad_of_input_grad_penalty(forward, x, params):
    """∇ of ‖∇ₓ L‖² with respect to (x, *params), L a fixed nonlinear
    read-out of ``forward(x)``: exercises first and second derivatives."""
    x = x.detach().clone().requires_grad_()
    out = forward(x)
    probe = torch.linspace(-1, 1, out.numel(), **f64).view_as(out)
    loss = (out.sin() * probe).sum()
    (g_x, ) = torch.autograd.grad(loss, x, create_graph=True)
    return torch.autograd.grad((g_x**2).sum(), [x] + list(params))


def assert_all_close(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)



class OpLog(TorchDispatchMode):
    """The aten ops run, with their arguments."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls.append((func, args))
        return func(*args, **(kwargs or {}))



def graph_ops(out):
    names, stack, seen = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        stack.extend(n for n, _ in node.next_functions)
    return names


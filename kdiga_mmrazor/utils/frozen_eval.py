"""A model frozen for attacks and diagnostics, restored afterwards.

Attacks and gradient diagnostics differentiate with respect to the input
only: the model must be in eval mode (BatchNorm statistics never move,
Dropout is off) and its parameters must not accumulate gradients. Both are
restored exactly, module by module and parameter by parameter.
"""
from contextlib import contextmanager
from typing import Iterator

from torch import nn


@contextmanager
def frozen_parameters(model: nn.Module) -> Iterator[nn.Module]:
    """No parameter requires grad for the duration (modes untouched);
    each one's ``requires_grad`` restored."""
    grads = {p: p.requires_grad for p in model.parameters()}
    for p in grads:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in grads.items():
            p.requires_grad_(flag)


@contextmanager
def frozen_eval(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and frozen parameters for the duration; both restored."""
    training = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with frozen_parameters(model):
            yield model
    finally:
        for m, mode in training.items():
            m.train(mode)

r"""Per-sample diagnostics of the paper's analysis, in pixel space.

From `How and When Adversarial Robustness Transfers in Knowledge
Distillation? <https://arxiv.org/abs/2110.12072>`_ (Shao et al.) and the
local-linearity measure of `Adversarial Robustness through Local
Linearization <https://arxiv.org/abs/1907.02610>`_ (Qin et al., 2019). For
a model :math:`f` (``x ∈ [0, 1] ↦ logits``, its normalisation inside), its
per-sample loss :math:`\ell(x) = \mathrm{CE}(f(x), y)` and its input
gradient :math:`g(x) = \nabla_x \ell(x)`:

* local linearity :math:`\gamma(\epsilon, x) = \max_{\|\delta\|_\infty \le
  \epsilon,\, x + \delta \in [0, 1]^d} |\ell(x + \delta) - \ell(x) -
  \delta^\top g(x)|`, found by projected sign-gradient ascent on
  :math:`\delta` (:func:`local_linearity`);
* the first-order bound :math:`\ell(x) + \epsilon \|g(x)\|_1 +
  \gamma(\epsilon, x) \ge \ell(x + \delta)` for every admissible
  :math:`\delta` (Hölder), when :math:`\gamma` is the exact maximum;
* the misalignment of student and teacher input gradients
  (:func:`gradient_misalignment`): :math:`\|g_s - g_t\|_1`,
  :math:`\|g_s - g_t\|_2` and :math:`\cos(g_s, g_t)`, and the transfer
  bound :math:`\ell_s(x) + \epsilon \|g_t\|_1 + \epsilon \|g_s - g_t\|_1 +
  \gamma_s(\epsilon, x)`, our reading of the paper's argument (the
  student's first-order bound with :math:`\|g_s\|_1 \le \|g_t\|_1 +
  \|g_s - g_t\|_1` substituted), which the triangle inequality puts above
  the student's own first-order bound.

Code consulted: none for the formulas; Qin et al. publish no code. Where we
may differ from them: the maximum is taken over every ascent iterate (a
tighter lower estimate of the true maximum than the last iterate), from a
uniform random start drawn from a seeded generator.
"""
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def per_sample_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:math:`\\mathrm{CE}(z_i, y_i)` per sample, shape ``(B,)``."""
    return F.cross_entropy(logits, y, reduction='none')


def input_gradient(model: nn.Module,
                   x: torch.Tensor,
                   y: torch.Tensor,
                   loss_fn: LossFn = per_sample_ce
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Per-sample loss, input gradient and logits at ``x`` (pixel space).

    The gradient of :math:`\sum_i \ell(x_i)` is :math:`(g(x_i))_i` because
    each :math:`\ell(x_i)` depends on :math:`x_i` only (the model is in eval
    mode: no batch statistics).

    Args:
        model (nn.Module): ``x ∈ [0, 1] ↦ logits``, frozen.
        x (Tensor): Images in ``[0, 1]``, NCHW.
        y (Tensor): Labels, ``(B,)``.
        loss_fn (callable): ``(logits, y) ↦`` per-sample loss ``(B,)``.
            Defaults to cross-entropy.

    Returns:
        tuple[Tensor]: ``loss (B,)``, ``grad`` (like ``x``), ``logits``, all
        detached.
    """
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        logits = model(x)
        loss = loss_fn(logits, y)
        grad, = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad.detach(), logits.detach()


def _linearisation_error(model: nn.Module, x: torch.Tensor,
                         y: torch.Tensor, delta: torch.Tensor,
                         loss0: torch.Tensor, grad0: torch.Tensor,
                         loss_fn: LossFn) -> torch.Tensor:
    r""":math:`|\ell(x + \delta) - \ell(x) - \delta^\top g(x)|` per
    sample."""
    first_order = (delta * grad0).flatten(1).sum(1)
    return (loss_fn(model(x + delta), y) - loss0 - first_order).abs()


def local_linearity(model: nn.Module,
                    x: torch.Tensor,
                    y: torch.Tensor,
                    eps: float,
                    steps: int = 10,
                    alpha: Optional[float] = None,
                    generator: Optional[torch.Generator] = None,
                    loss_fn: LossFn = per_sample_ce,
                    loss0: Optional[torch.Tensor] = None,
                    grad0: Optional[torch.Tensor] = None) -> torch.Tensor:
    r"""Local-linearity measure :math:`\gamma(\epsilon, x)` of Qin et al.

    .. math::
        \gamma(\epsilon, x) = \max_{\|\delta\|_\infty \le \epsilon,\;
        x + \delta \in [0, 1]^d}
        \big|\ell(x + \delta) - \ell(x) - \delta^\top \nabla_x \ell(x)\big|

    estimated by ``steps`` projected steps
    :math:`\delta \leftarrow \Pi(\delta + \alpha\,\mathrm{sign}(\nabla_\delta
    |\cdot|))` from :math:`\delta_0 \sim U[-\epsilon, \epsilon]^d` (clipped
    so that :math:`x + \delta_0 \in [0, 1]^d`); the largest value seen over
    the ``steps + 1`` iterates is returned. It is a lower estimate of the
    maximum; 0 for a loss that is linear in ``x``.

    Args:
        model (nn.Module): ``x ∈ [0, 1] ↦ logits``, frozen, eval mode.
        x (Tensor): Images in ``[0, 1]`` (pixel space), NCHW.
        y (Tensor): Labels, ``(B,)``.
        eps (float): L∞ radius in the ``[0, 1]`` scale (``8 / 255``).
        steps (int): Ascent steps. Defaults to 10.
        alpha (float, optional): Step size. Defaults to
            ``2.5 * eps / steps``.
        generator (torch.Generator, optional): Source of the random start.
            Defaults to a generator seeded with 0 on ``x.device``.
        loss_fn (callable): ``(logits, y) ↦`` per-sample loss.
            Defaults to cross-entropy.
        loss0 (Tensor, optional): :math:`\ell(x)` if already computed.
        grad0 (Tensor, optional): :math:`\nabla_x \ell(x)` if already
            computed (give both or neither).

    Returns:
        Tensor: :math:`\gamma(\epsilon, x_i)`, shape ``(B,)``.
    """
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f'local_linearity: steps must be an int >= 0, got '
                         f'{steps!r}')
    if alpha is None:
        alpha = 2.5 * eps / max(steps, 1)
    if generator is None:
        generator = torch.Generator(device=x.device).manual_seed(0)
    x = x.detach()
    if loss0 is None or grad0 is None:
        loss0, grad0, _ = input_gradient(model, x, y, loss_fn)
    noise = torch.rand(
        x.shape, generator=generator, device=x.device, dtype=x.dtype)
    delta = ((2 * noise - 1) * eps + x).clamp(0, 1) - x
    best = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
    with torch.enable_grad():
        for _ in range(steps):
            delta.requires_grad_(True)
            err = _linearisation_error(model, x, y, delta, loss0, grad0,
                                       loss_fn)
            step, = torch.autograd.grad(err.sum(), delta)
            best = torch.maximum(best, err.detach())
            delta = delta.detach() + alpha * step.sign()
            delta = (delta.clamp(-eps, eps) + x).clamp(0, 1) - x
    with torch.no_grad():
        err = _linearisation_error(model, x, y, delta, loss0, grad0, loss_fn)
    return torch.maximum(best, err)


def gradient_misalignment(grad_s: torch.Tensor,
                          grad_t: torch.Tensor) -> Dict[str, torch.Tensor]:
    r"""Per-sample distances between student and teacher input gradients.

    Returns:
        dict[str, Tensor]: ``grad_misalign_l1`` :math:`\|g_s - g_t\|_1`,
        ``grad_misalign_l2`` :math:`\|g_s - g_t\|_2` and ``grad_cos_sim``
        :math:`g_s^\top g_t / (\|g_s\|_2 \|g_t\|_2)` (0 where either
        gradient is 0), each of shape ``(B,)``.
    """
    g_s, g_t = grad_s.flatten(1), grad_t.flatten(1)
    diff = g_s - g_t
    return dict(
        grad_misalign_l1=diff.abs().sum(1),
        grad_misalign_l2=diff.norm(p=2, dim=1),
        grad_cos_sim=F.cosine_similarity(g_s, g_t, dim=1, eps=1e-12))


def first_order_bound(loss: torch.Tensor, grad_l1: torch.Tensor, eps: float,
                      local_lin: torch.Tensor) -> torch.Tensor:
    r""":math:`\ell(x) + \epsilon \|\nabla_x \ell(x)\|_1 + \gamma(\epsilon,
    x)`, per sample: an upper bound of :math:`\ell(x + \delta)` over the
    L∞ ε-ball when :math:`\gamma` is exact."""
    return loss + eps * grad_l1 + local_lin


def transfer_bound(loss_s: torch.Tensor, grad_t_l1: torch.Tensor,
                   misalign_l1: torch.Tensor, eps: float,
                   local_lin_s: torch.Tensor) -> torch.Tensor:
    r""":math:`\ell_s(x) + \epsilon \|g_t\|_1 + \epsilon \|g_s - g_t\|_1 +
    \gamma_s(\epsilon, x)`, per sample: the student's first-order bound
    with its gradient split into the teacher's and the misalignment."""
    return loss_s + eps * (grad_t_l1 + misalign_l1) + local_lin_s

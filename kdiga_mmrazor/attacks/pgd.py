"""Projected gradient descent (PGD), L∞ and L2, in pixel space.

From `Towards Deep Learning Models Resistant to Adversarial Attacks
<https://arxiv.org/abs/1706.06083>`_ (Madry et al., 2018); the margin loss is
the one of `Towards Evaluating the Robustness of Neural Networks
<https://arxiv.org/abs/1608.04644>`_ (Carlini & Wagner, 2017). Consulted:
the PGD evaluation of yaodongyu/TRADES (``pgd_attack_cifar10.py``) and
fra31/auto-attack (``autopgd_base.py``, projections). Where we differ: the
random start comes from the attack's own seeded generator (never the global
RNG), and restarts keep the per-sample worst case.

The functional core (:func:`pgd`, :func:`random_start`, :func:`project`,
:func:`attack_loss`) is usable without a registry; :class:`PGDAttack` and
:class:`~kdiga_mmrazor.attacks.FGSMAttack` are thin wrappers over it.
"""
from typing import Callable, Dict, Optional

import torch
from torch import nn
from torch.nn import functional as F

from ..registry import ATTACKS
from .base import BaseAttack, eps_label
from .checks import check_int, check_pixel_scale

LOSSES = ('ce', 'cw')


def _per_sample_norm(t: torch.Tensor, p: float) -> torch.Tensor:
    """``‖t_i‖_p`` of each sample, shaped ``(B, 1, …, 1)`` to broadcast."""
    flat = t.reshape(t.shape[0], -1)
    return flat.norm(p=p, dim=1).view(-1, *([1] * (t.dim() - 1)))


def attack_loss(logits: torch.Tensor, y: torch.Tensor,
                loss: str = 'ce') -> torch.Tensor:
    r"""Per-sample loss the attack ascends.

    ``'ce'``: :math:`\mathrm{CE}(z, y)`; ``'cw'``: the margin
    :math:`\max_{j \ne y} z_j - z_y` (positive once ``x`` is misclassified).

    Returns:
        Tensor: shape ``(B,)``.
    """
    if loss == 'ce':
        return F.cross_entropy(logits, y, reduction='none')
    if loss == 'cw':
        z_y = logits.gather(1, y[:, None]).squeeze(1)
        others = logits.scatter(1, y[:, None], float('-inf'))
        return others.max(dim=1).values - z_y
    raise ValueError(f'attack_loss: loss must be one of {LOSSES}, got '
                     f'{loss!r}')


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float,
            norm: str) -> torch.Tensor:
    r"""Project onto :math:`\{x' : \|x' - x\| \le \epsilon\} \cap [0,1]^d`.

    L∞: clip to ``[x − ε, x + ε]``, then to ``[0, 1]``. L2: scale
    :math:`\delta = x' - x` by :math:`\min(1, \epsilon / \|\delta\|_2)`,
    then clip to ``[0, 1]`` (clipping towards ``x ∈ [0, 1]`` only shrinks
    :math:`|\delta_k|`, so the L2 bound holds after it; the composition is
    the usual PGD step, not the exact projection onto the intersection).
    """
    if norm == 'linf':
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps)
    elif norm == 'l2':
        delta = x_adv - x
        length = _per_sample_norm(delta, 2)
        factor = torch.where(length > eps, eps / length.clamp_min(1e-12),
                             torch.ones_like(length))
        x_adv = x + delta * factor
    else:
        raise ValueError(f"project: norm must be 'linf' or 'l2', got "
                         f'{norm!r}')
    return x_adv.clamp(0, 1)


def random_start(x: torch.Tensor, eps: float, norm: str,
                 generator: torch.Generator) -> torch.Tensor:
    r"""A random point of the ε-ball around ``x``, clipped to ``[0, 1]``.

    L∞: :math:`\delta = \epsilon (2u - 1)`, :math:`u \sim U[0, 1)^d`
    (``torch.rand(x.shape)``), i.e. uniform in the ball. L2:
    :math:`\delta = r\, g / \|g\|_2` with :math:`g \sim N(0, I)`
    (``torch.randn(x.shape)``, drawn first) and :math:`r = \epsilon v`,
    :math:`v \sim U[0, 1)` per sample (``torch.rand(B)``): a random direction
    at a random radius. Everything is drawn from ``generator`` in float32
    (then cast to ``x``'s dtype), so a float64 batch starts where its
    float32 copy does.
    """
    kwargs = dict(generator=generator, device=x.device, dtype=torch.float32)
    if norm == 'linf':
        delta = (torch.rand(x.shape, **kwargs).to(x.dtype) * 2 - 1) * eps
    elif norm == 'l2':
        direction = torch.randn(x.shape, **kwargs).to(x.dtype)
        direction = direction / _per_sample_norm(direction, 2).clamp_min(
            1e-12)
        radius = torch.rand(x.shape[0], **kwargs).to(x.dtype) * eps
        delta = direction * radius.view(-1, *([1] * (x.dim() - 1)))
    else:
        raise ValueError(f"random_start: norm must be 'linf' or 'l2', got "
                         f'{norm!r}')
    return (x + delta).clamp(0, 1)


def pgd(model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        alpha: float,
        steps: int,
        norm: str = 'linf',
        loss: str = 'ce',
        x_init: Optional[torch.Tensor] = None,
        objective: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
        ) -> torch.Tensor:
    r"""``steps`` projected steps of size :math:`\alpha` from ``x_init``.

    .. math::
        x^{t+1} = \Pi_{\epsilon}\big(x^t + \alpha\, s(g^t)\big), \quad
        g^t = \nabla_{x} \ell(f(x^t), y)

    with :math:`s(g) = \mathrm{sign}(g)` (L∞) or :math:`g / \|g\|_2` per
    sample (L2), :math:`\Pi_\epsilon` = :func:`project`. The last iterate is
    returned. ``model`` should be frozen (only ∂/∂x is taken, so parameter
    ``.grad`` never changes either way).

    Args:
        model (nn.Module): ``x ∈ [0, 1] ↦ logits``.
        x (Tensor): Clean images in ``[0, 1]``, the centre of the ball.
        y (Tensor): Labels, shape ``(B,)``.
        eps (float): ε in the ``[0, 1]`` scale.
        alpha (float): Step size α, same scale.
        steps (int): Number of steps.
        norm (str): ``'linf'`` or ``'l2'``. Defaults to ``'linf'``.
        loss (str): ``'ce'`` or ``'cw'`` (:func:`attack_loss`).
            Defaults to ``'ce'``.
        x_init (Tensor, optional): Starting point (e.g. from
            :func:`random_start`). Defaults to ``x``.
        objective (callable, optional): ``logits ↦ per-sample loss (B,)``
            to ascend instead of ``loss`` (the inner maximisations of
            adversarial training and robust distillation, e.g.
            :math:`\mathrm{KL}(p_t \| \mathrm{softmax}(z'))`). Defaults
            to None.
    """
    x = x.detach()
    x_adv = x.clone() if x_init is None else x_init.detach().clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        logits = model(x_adv)
        ascent = (attack_loss(logits, y, loss)
                  if objective is None else objective(logits)).sum()
        grad, = torch.autograd.grad(ascent, x_adv)
        if norm == 'linf':
            step = grad.sign()
        else:
            step = grad / _per_sample_norm(grad, 2).clamp_min(1e-12)
        x_adv = project(x_adv.detach() + alpha * step, x, eps, norm)
    return x_adv.detach()


def check_attack_args(owner: str, norm: str, alpha: Optional[float],
                      steps: int, restarts: int, loss: str) -> None:
    """Build-time checks shared by PGD and FGSM (errors naming the key);
    ``alpha=None`` (derived from ε) is not checked."""
    if loss not in LOSSES:
        raise ValueError(f'{owner}: loss must be one of {LOSSES}, got '
                         f'{loss!r}')
    check_int(owner, 'steps', steps)
    check_int(owner, 'restarts', restarts)
    if alpha is not None:
        check_pixel_scale(owner, 'alpha', alpha, norm)


@ATTACKS.register_module()
class PGDAttack(BaseAttack):
    r"""Projected gradient descent with random start and restarts.

    For a model :math:`f` on images :math:`x \in [0, 1]^{C \times H \times
    W}` (pixel space, its normalisation inside :math:`f`), labels :math:`y`
    and loss :math:`\ell` (``'ce'``: :math:`\mathrm{CE}(f(x), y)`;
    ``'cw'``: :math:`\max_{j \ne y} f_j(x) - f_y(x)`), each restart runs

    .. math::
        x^0 = \mathrm{clip}_{[0,1]}(x + \delta_0), \qquad
        x^{t+1} = \Pi_{\epsilon}\big(x^t + \alpha\, s(\nabla_x
        \ell(f(x^t), y))\big)

    for :math:`t < T`, with :math:`s = \mathrm{sign}` (L∞) or
    :math:`g \mapsto g / \|g\|_2` (L2) and :math:`\Pi_\epsilon` the
    projection onto the ε-ball of ``x``, then onto :math:`[0, 1]`. The
    random start :math:`\delta_0` is uniform in the L∞ ball, or a random
    direction at a radius :math:`\epsilon v`, :math:`v \sim U[0, 1)`, for L2
    (:func:`random_start`); it is drawn from the seeded
    :meth:`~BaseAttack.generator`, so the same batch gives the same images.
    The last iterate :math:`x^T` is the restart's result. With
    :math:`R > 1` restarts a sample counts as broken if any restart breaks
    it: later restarts run only on samples still classified correctly, and
    the first breaking iterate is kept.

    The default name is ``pgd{T}[cw][x{R}]_{norm}_{ε·255}``:
    ``pgd20_linf_8``, ``pgd20cw_linf_8``, ``pgd20x5_linf_8``,
    ``pgd20cwx5_l2_0.5`` (an ε that is not a multiple of 1/255 is written as
    is).

    Args:
        eps (float): ε in the ``[0, 1]`` pixel scale (``8 / 255``, not 8):
            L∞ at most 1; L2 at most the diameter :math:`\sqrt{CHW}` of the
            image cube, checked at the call.
        alpha (float, optional): Step size α, same scale and bounds.
            Defaults to ``2.5 * eps / steps`` (Madry et al.; the
            measurements of the shared teacher use it).
        steps (int): Steps per restart :math:`T`. Defaults to 20.
        norm (str): ``'linf'`` or ``'l2'``. Defaults to ``'linf'``.
        random_start (bool): Start from :math:`x + \delta_0` rather than
            ``x``. Defaults to True.
        restarts (int): Restarts :math:`R`. Defaults to 1.
        loss (str): ``'ce'`` or ``'cw'``. Defaults to ``'ce'``.
        seed (int): Seed of the random start. Defaults to 0.
        name (str, optional): Metric-key name. Defaults to the scheme above.

    Example:
        >>> attack = ATTACKS.build(dict(type='PGDAttack', eps=8 / 255,
        ...                             steps=20))
        >>> attack.name
        'pgd20_linf_8'
        >>> x_adv = attack(pixel_model, x, y)  # x in [0, 1]
    """

    norms = ('linf', 'l2')

    def __init__(self,
                 eps: float,
                 alpha: Optional[float] = None,
                 steps: int = 20,
                 norm: str = 'linf',
                 random_start: bool = True,
                 restarts: int = 1,
                 loss: str = 'ce',
                 seed: int = 0,
                 name: Optional[str] = None) -> None:
        super().__init__(eps=eps, norm=norm, seed=seed, name=name)
        check_attack_args(type(self).__name__, norm, alpha, steps, restarts,
                          loss)
        if alpha is None:
            alpha = 2.5 * self.eps / steps
        else:
            self.radii['alpha'] = float(alpha)
        if restarts > 1 and not random_start:
            raise ValueError(
                f'{type(self).__name__}: restarts={restarts} without '
                'random_start would repeat the same run; set '
                'random_start=True or restarts=1')
        self.alpha = float(alpha)
        self.steps = int(steps)
        self.random_start = bool(random_start)
        self.restarts = int(restarts)
        self.loss = loss

    def default_name(self) -> str:
        tag = f'pgd{self.steps}'
        if self.loss == 'cw':
            tag += 'cw'
        if self.restarts > 1:
            tag += f'x{self.restarts}'
        return f'{tag}_{self.norm}_{eps_label(self.eps, self.norm)}'

    @property
    def strength(self) -> float:
        """``steps × restarts`` gradient steps."""
        return float(self.steps * self.restarts)

    def settings(self) -> Dict:
        return dict(
            super().settings(),
            alpha=self.alpha,
            steps=self.steps,
            random_start=self.random_start,
            restarts=self.restarts,
            loss=self.loss)

    def perturb(self, model: nn.Module, x: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
        generator = self.generator(x.device)
        x_best = x.clone()
        robust = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
        for restart in range(self.restarts):
            idx = robust.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            x_r, y_r = x[idx], y[idx]
            x_init = (
                random_start(x_r, self.eps, self.norm, generator)
                if self.random_start else None)
            x_adv = pgd(model, x_r, y_r, self.eps, self.alpha, self.steps,
                        self.norm, self.loss, x_init)
            if restart == 0:
                x_best[idx] = x_adv
            if self.restarts == 1:
                break
            with torch.no_grad():
                broken = model(x_adv).argmax(dim=1) != y_r
            x_best[idx[broken]] = x_adv[broken]
            robust[idx[broken]] = False
        return x_best

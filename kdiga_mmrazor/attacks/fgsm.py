"""Fast gradient sign method (FGSM), L∞, in pixel space.

From `Explaining and Harnessing Adversarial Examples
<https://arxiv.org/abs/1412.6572>`_ (Goodfellow et al., 2015); the random
start and its step 1.25·ε from `Fast is better than free
<https://arxiv.org/abs/2001.03994>`_ (Wong et al., 2020). One step of
:func:`~kdiga_mmrazor.attacks.pgd.pgd`.
"""
from typing import Dict, Optional

import torch
from torch import nn

from ..registry import ATTACKS
from .base import BaseAttack, eps_label
from .pgd import check_attack_args, pgd, random_start


@ATTACKS.register_module()
class FGSMAttack(BaseAttack):
    r"""One signed-gradient step, optionally from a random start.

    For a model :math:`f` on images :math:`x \in [0, 1]^{C \times H \times
    W}` (pixel space, its normalisation inside :math:`f`), labels :math:`y`
    and loss :math:`\ell` (``'ce'`` or the ``'cw'`` margin, as in
    :class:`PGDAttack`):

    .. math::
        x_{adv} = \Pi_{\epsilon}\big(x^0 + \alpha\,
        \mathrm{sign}(\nabla_x \ell(f(x^0), y))\big)

    with :math:`x^0 = x` and :math:`\alpha = \epsilon` (Goodfellow et al.),
    or, with ``random_start``, :math:`x^0 = \mathrm{clip}_{[0,1]}(x +
    \delta_0)`, :math:`\delta_0 \sim U[-\epsilon, \epsilon]^d` from the seeded
    generator and :math:`\alpha = 1.25 \epsilon` (Wong et al.).
    :math:`\Pi_\epsilon` clips to :math:`[x - \epsilon, x + \epsilon]`, then
    to :math:`[0, 1]`.

    The default name is ``fgsm_linf_8``; ``fgsmrs_linf_8`` with the random
    start (``fgsmcw…`` with the margin loss).

    Args:
        eps (float): ε in the ``[0, 1]`` pixel scale (``8 / 255``, not 8).
        alpha (float, optional): Step size α, same scale. Defaults to
            ``eps``, or ``1.25 * eps`` with ``random_start``.
        random_start (bool): Step from a uniform random point of the ball.
            Defaults to False.
        loss (str): ``'ce'`` or ``'cw'``. Defaults to ``'ce'``.
        norm (str): Only ``'linf'``. Defaults to ``'linf'``.
        seed (int): Seed of the random start. Defaults to 0.
        name (str, optional): Metric-key name. Defaults to the scheme above.

    Example:
        >>> attack = ATTACKS.build(dict(type='FGSMAttack', eps=8 / 255))
        >>> attack.name
        'fgsm_linf_8'
    """

    norms = ('linf', )

    def __init__(self,
                 eps: float,
                 alpha: Optional[float] = None,
                 random_start: bool = False,
                 loss: str = 'ce',
                 norm: str = 'linf',
                 seed: int = 0,
                 name: Optional[str] = None) -> None:
        super().__init__(eps=eps, norm=norm, seed=seed, name=name)
        check_attack_args(type(self).__name__, norm, alpha, 1, 1, loss)
        if alpha is None:
            alpha = 1.25 * self.eps if random_start else self.eps
        self.alpha = float(alpha)
        self.random_start = bool(random_start)
        self.loss = loss

    def default_name(self) -> str:
        tag = 'fgsm' + ('cw' if self.loss == 'cw' else '')
        tag += 'rs' if self.random_start else ''
        return f'{tag}_{self.norm}_{eps_label(self.eps, self.norm)}'

    @property
    def strength(self) -> float:
        """One gradient step: the weakest iterative-attack baseline."""
        return 1.0

    def settings(self) -> Dict:
        return dict(
            super().settings(),
            alpha=self.alpha,
            random_start=self.random_start,
            loss=self.loss)

    def perturb(self, model: nn.Module, x: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
        x_init = None
        if self.random_start:
            x_init = random_start(x, self.eps, self.norm,
                                  self.generator(x.device))
        return pgd(model, x, y, self.eps, self.alpha, 1, self.norm,
                   self.loss, x_init)

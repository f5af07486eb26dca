"""The attack interface: pixel-space adversaries for ``x ↦ logits`` models.

Every attack takes a model that maps images ``x ∈ [0, 1]`` (RGB, NCHW,
before normalisation) to logits, typically
:func:`kdiga_mmrazor.utils.as_pixel_classifier` of a runner's model, and
returns adversarial images in ``[0, 1]`` within the ε-ball of ``x``. ε is in
the ``[0, 1]`` scale (``8 / 255``).

While an attack runs the model is in eval mode and its parameters do not
require gradients (so none accumulate and BatchNorm statistics never move);
both are restored afterwards. Randomness comes from a generator seeded by
``seed``, so the same attack on the same batch gives the same images.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional

import torch
from torch import nn

from ..utils.frozen_eval import frozen_eval

NORMS = ('linf', 'l2', 'l1')


def check_pixel_scale(owner: str, key: str, value: float, norm: str) -> None:
    """A step or budget (``eps``, ``alpha``) must be >= 0 and, under L∞,
    on the [0, 1] pixel scale (ValueError naming the key and the fix)."""
    if not value >= 0:
        raise ValueError(f'{owner}: {key} must be >= 0, got {value}')
    if norm == 'linf' and value >= 1:
        raise ValueError(
            f'{owner}: {key}={value} is not in the [0, 1] pixel scale; '
            f'write {key}={value:g} / 255 (= {value / 255:.5f}) for '
            f'{value:g} grey levels')


def eps_label(eps: float, norm: str = 'linf') -> str:
    """ε for names: L∞ ``8/255 → '8'``; L2/L1 radii as written
    (``0.5 → '0.5'``, ``12 → '12'``), as is an L∞ ε off the 1/255 grid."""
    in_255 = eps * 255
    if norm == 'linf' and abs(in_255 - round(in_255)) < 1e-6:
        return str(int(round(in_255)))
    return f'{eps:g}'


class BaseAttack(metaclass=ABCMeta):
    """Base class of registered attacks.

    Args:
        eps (float): Radius of the threat model in the ``[0, 1]`` pixel
            scale (L∞ ``8 / 255``; L2 e.g. ``0.5``).
        norm (str): ``'linf'``, ``'l2'`` or ``'l1'``. Defaults to ``'linf'``.
        seed (int): Seed of the attack's random generator. Defaults to 0.
        name (str, optional): Name used in metric keys
            (``robust/{name}/acc``). Defaults to :meth:`default_name`.
    """

    norms = NORMS

    def __init__(self,
                 eps: float,
                 norm: str = 'linf',
                 seed: int = 0,
                 name: Optional[str] = None) -> None:
        cls = type(self).__name__
        if norm not in self.norms:
            raise ValueError(f'{cls}: norm must be one of {self.norms}, got '
                             f'{norm!r}')
        check_pixel_scale(cls, 'eps', eps, norm)
        self.eps = float(eps)
        self.norm = norm
        self.seed = int(seed)
        self._name = name

    def default_name(self) -> str:
        """E.g. ``'pgd20_linf_8'``; subclasses prefix their own tag."""
        return f'{type(self).__name__.lower()}_{self.norm}_' \
               f'{eps_label(self.eps, self.norm)}'

    @property
    def name(self) -> str:
        return self._name or self.default_name()

    @property
    def strength(self) -> Optional[float]:
        """How strong the attack is against attacks of the same norm and
        ε, for the sanity checks (only the order matters): FGSM 1, PGD
        ``steps × restarts``, AutoAttack ``standard``/``plus`` infinite.
        None (the default) means "not compared"."""
        return None

    def settings(self) -> Dict:
        """Every setting that determines the result (for result JSON)."""
        return dict(
            type=type(self).__name__,
            name=self.name,
            norm=self.norm,
            eps=self.eps,
            seed=self.seed)

    def generator(self, device: torch.device) -> torch.Generator:
        gen = torch.Generator(device=device)
        gen.manual_seed(self.seed)
        return gen

    @abstractmethod
    def perturb(self, model: nn.Module, x: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
        """Adversarial images for a frozen, eval-mode model."""

    def __call__(self, model: nn.Module, x: torch.Tensor,
                 y: torch.Tensor) -> torch.Tensor:
        """Attack ``model`` at ``(x, y)``; ``x`` in ``[0, 1]``.

        Returns:
            Tensor: ``x_adv`` with ``x_adv ∈ [0, 1]`` and
            ``‖x_adv − x‖ ≤ eps`` in the attack's norm.
        """
        if x.min() < 0 or x.max() > 1:
            raise ValueError(
                f'{type(self).__name__}: inputs must be pixels in [0, 1], '
                f'got range [{x.min().item():.3g}, {x.max().item():.3g}]; '
                'pass images before mean/std normalisation')
        with frozen_eval(model), torch.enable_grad():
            x_adv = self.perturb(model, x.detach(), y.detach())
        return x_adv.detach()

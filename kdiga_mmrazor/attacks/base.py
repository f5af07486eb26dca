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

Before any gradient, a call refuses inputs that are not finite
floating-point pixels in ``[0, 1]`` and radii beyond the image cube's
diameter (:mod:`.checks`); the build refuses budgets that are not finite
numbers in their norm's pixel scale. Inputs of another dtype than the
model's (float64 for a float32 model) are attacked in the model's dtype and
returned in their own.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional

import torch
from torch import nn

from ..utils.frozen_eval import frozen_eval
from .checks import (
    check_fits_cube,
    check_int,
    check_pixel_scale,
    check_pixels,
    model_dtype,
)

NORMS = ('linf', 'l2', 'l1')


def eps_label(eps: float, norm: str = 'linf') -> str:
    """ε for names: L∞ ``8/255 → '8'``; L2/L1 radii as written
    (``0.5 → '0.5'``, ``12 → '12'``), as is an L∞ ε off the 1/255 grid."""
    in_255 = eps * 255
    if norm == 'linf' and abs(in_255 - round(in_255)) < 1e-6:
        return str(int(round(in_255)))
    return f'{eps:g}'


def into_ball(x_adv: torch.Tensor, x: torch.Tensor, eps: float,
              norm: str) -> torch.Tensor:
    r"""``x_adv`` moved into :math:`\{x' : \|x' - x\|_p \le \epsilon\}
    \cap [0, 1]^d`: L∞ clips :math:`\delta = x' - x` to
    :math:`[-\epsilon, \epsilon]`, L2/L1 scale it by
    :math:`\min(1, \epsilon / \|\delta\|_p)`; then clip to ``[0, 1]``
    (which only shrinks :math:`|\delta_k|`). Used after a dtype cast, so
    the bound holds in the caller's precision."""
    delta = x_adv - x
    if norm == 'linf':
        delta = delta.clamp(-eps, eps)
    else:
        p = 2 if norm == 'l2' else 1
        length = delta.flatten(1).norm(p=p, dim=1).view(
            -1, *([1] * (x.dim() - 1)))
        delta = delta * (eps / length.clamp_min(1e-30)).clamp(max=1)
    return (x + delta).clamp(0, 1)


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
        self.eps = check_pixel_scale(cls, 'eps', eps, norm)
        self.norm = norm
        self.seed = check_int(cls, 'seed', seed, minimum=None)
        if name is not None and not (isinstance(name, str) and name):
            raise TypeError(f'{cls}: name must be a non-empty str or None, '
                            f'got {name!r}')
        self._name = name
        # budgets and steps bounded by the image cube's diameter (L2/L1),
        # checked at each call once the input shape is known
        self.radii: Dict[str, float] = {'eps': self.eps}

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

        ``x`` must be finite floating-point pixels in ``[0, 1]`` and every
        radius (:attr:`radii`) at most the diameter of the image cube in
        the attack's norm (checked here, before any gradient). The attack
        runs in the dtype of the model's parameters; the images come back
        in ``x``'s dtype, re-projected onto the ε-ball of ``x`` there.

        Returns:
            Tensor: ``x_adv`` with ``x_adv ∈ [0, 1]`` and
            ``‖x_adv − x‖ ≤ eps`` in the attack's norm.
        """
        owner = f"{type(self).__name__} '{self.name}'"
        check_pixels(owner, x)
        for key, value in self.radii.items():
            check_fits_cube(owner, key, value, self.norm, x.shape[1:])
        x = x.detach()
        if x.shape[0] == 0:
            return x.clone()
        dtype = model_dtype(model, x.dtype)
        with frozen_eval(model), torch.enable_grad():
            x_adv = self.perturb(model, x.to(dtype), y.detach())
        x_adv = x_adv.detach()
        if x_adv.dtype != x.dtype:
            x_adv = into_ball(x_adv.to(x.dtype), x, self.eps, self.norm)
        return x_adv

r"""Certified L2 robustness by randomized smoothing (Cohen et al. 2019).

The smoothed classifier of a base classifier :math:`f` is

.. math::
    g(x) = \arg\max_c \; P_{\delta \sim \mathcal N(0, \sigma^2 I)}
    \big(f(x + \delta) = c\big).

If the top class :math:`c_A` has probability :math:`p_A \ge
\underline{p_A} > \tfrac12`, then :math:`g(x + \epsilon) = c_A` for every
:math:`\|\epsilon\|_2 < R = \sigma\,\Phi^{-1}(\underline{p_A})` (Theorem
1 of J. Cohen, E. Rosenfeld, J. Z. Kolter, "Certified Adversarial
Robustness via Randomized Smoothing", ICML 2019, arXiv:1902.02918, with
:math:`\overline{p_B} = 1 - \underline{p_A}`). :class:`RandomizedSmoothing`
runs their CERTIFY procedure, as in the authors' reference code
(``github.com/locuslab/smoothing``, ``code/core.py``, ``Smooth.certify``):

1. draw :math:`n_0` noisy copies :math:`x + \delta_i`; :math:`\hat c_A` is
   the class :math:`f` predicts most often among them (the first on ties);
2. draw :math:`n` fresh copies; :math:`k` of them are classified
   :math:`\hat c_A`;
3. :math:`\underline{p_A}` is the one-sided :math:`(1 - \alpha)`
   Clopper–Pearson lower bound of :math:`k / n`
   (:func:`~.bounds.clopper_pearson_lower`);
4. abstain if :math:`\underline{p_A} < \tfrac12`, else predict
   :math:`\hat c_A` with radius :math:`R = \sigma\,\Phi^{-1}
   (\underline{p_A})`.

With probability at least :math:`1 - \alpha` over the noise, a returned
prediction is :math:`g(x)` and :math:`g` is constant on the L2 ball of
radius :math:`R`. The noise is added in the ``[0, 1]`` pixel space without
clipping (the classifier normalises inside), as in the reference code.
"""
import logging
import re
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from ...attacks.checks import check_int, check_pixels, check_real, model_dtype
from ...registry import CERTIFIERS
from ...utils import frozen_eval
from ..metrics.certified_accuracy import ABSTAIN, radius_key
from .bounds import (
    clopper_pearson_lower,
    max_certifiable_radius,
    smoothed_radius,
)
from .noise import sample_generator
from .progress import CertificationProgress

NAME = re.compile(r'^[A-Za-z0-9_.\-]+$')  # safe in metric keys and tags


def check_radii(owner: str, radii) -> List[float]:
    """``radii`` as a sorted list of distinct finite radii ``>= 0``
    (errors name ``radii[i]``)."""
    if isinstance(radii, (str, bytes)) or not isinstance(
            radii, Sequence) or not radii:
        raise TypeError(
            f'{owner}: radii must be a non-empty list of L2 radii, e.g. '
            f'radii=(0.0, 0.25, 0.5), got {radii!r}')
    values = []
    for i, radius in enumerate(radii):
        radius = check_real(owner, f'radii[{i}]', radius)
        if radius < 0:
            raise ValueError(f'{owner}: radii[{i}] must be >= 0 (an L2 '
                             f'radius), got {radius:g}')
        values.append(radius)
    labels = [radius_key(r) for r in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f'{owner}: radii must be distinct (they name the '
                         f'metric keys), got {labels}')
    return sorted(values)


@CERTIFIERS.register_module()
class RandomizedSmoothing:
    r"""Cohen et al.'s CERTIFY of the Gaussian-smoothed base classifier.

    For each image :math:`x` (pixels in ``[0, 1]``) of a batch:
    :math:`n_0` selection draws give :math:`\hat c_A`, :math:`n`
    estimation draws give :math:`k`, and

    .. math::
        \underline{p_A} = B^{-1}(\alpha;\, k,\, n - k + 1), \qquad
        R = \sigma\,\Phi^{-1}(\underline{p_A}),

    abstaining (prediction ``-1``, radius 0) when :math:`\underline{p_A}
    < \tfrac12`. The base classifier runs in eval mode, frozen and under
    ``no_grad``. The noise of an image comes from a generator seeded by
    ``(seed, sample_idx)`` (:mod:`.noise`): results do not depend on the
    dataloader batch, the order of samples or the world size.

    No certificate exceeds :math:`R_{\max} = \sigma\,\Phi^{-1}
    (\alpha^{1/n})`, reached when all :math:`n` draws agree (0.953 for
    :math:`\sigma = 0.25, n = 10^5, \alpha = 10^{-3}`; 0.616 for
    :math:`n = 1000`). A radius of ``radii`` above it is kept (its
    certified accuracy is 0 by construction, still a valid number) and
    logged as a warning at build, naming ``n`` and ``sigma`` as the fix.

    Args:
        sigma (float): Noise level :math:`\sigma`, the standard deviation
            of :math:`\delta` in the ``[0, 1]`` pixel scale (> 0).
        n0 (int): Selection draws :math:`n_0` (>= 1). Defaults to 100.
        n (int): Estimation draws :math:`n` (>= 1). Defaults to 100,000.
        alpha (float): Failure probability :math:`\alpha` of the
            certificate (``0 < alpha < 0.5``). Defaults to 0.001.
        batch_size (int): Noisy copies per forward pass. Defaults to 1000.
        radii (Sequence[float]): L2 radii at which certified accuracy is
            reported (finite, >= 0). Defaults to
            ``(0.0, 0.25, 0.5, 0.75, 1.0)``.
        seed (int): Seed of the noise. Defaults to 0.
        name (str, optional): Name in metric keys
            (``robust/{name}/certified_acc_r0.5``); letters, digits,
            ``_``, ``.``, ``-``. Defaults to ``smooth_l2_sigma{sigma:g}``.
        log_interval (int): Images between two progress lines (images
            done / total, seconds per image, ETA). Defaults to 10.

    Example:
        >>> smoothing = RandomizedSmoothing(sigma=0.25, n=1000)
        >>> smoothing.certify(pixel_classifier, x, sample_idx=[3, 7])
        [{'sample_idx': 3, 'prediction': 5, 'radius': 0.41, ...}, ...]
    """
    norm = 'l2'

    def __init__(self,
                 sigma: float,
                 n0: int = 100,
                 n: int = 100_000,
                 alpha: float = 0.001,
                 batch_size: int = 1000,
                 radii: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
                 seed: int = 0,
                 name: Optional[str] = None,
                 log_interval: int = 10) -> None:
        cls = type(self).__name__
        self.sigma = check_real(cls, 'sigma', sigma)
        if self.sigma <= 0:
            raise ValueError(
                f'{cls}: sigma must be > 0 (the std of the Gaussian noise '
                f'in the [0, 1] pixel scale, e.g. 0.25), got {self.sigma:g}')
        self.n0 = check_int(cls, 'n0', n0)
        self.n = check_int(cls, 'n', n)
        self.alpha = check_real(cls, 'alpha', alpha)
        if not 0 < self.alpha < 0.5:
            raise ValueError(
                f'{cls}: alpha must satisfy 0 < alpha < 0.5 (the failure '
                f'probability of a certificate, e.g. 0.001), got '
                f'{self.alpha:g}')
        self.batch_size = check_int(cls, 'batch_size', batch_size)
        self.radii = check_radii(cls, radii)
        self.seed = check_int(cls, 'seed', seed, minimum=None)
        if name is not None and not (isinstance(name, str)
                                     and NAME.match(name)):
            raise ValueError(
                f'{cls}: name must be letters, digits, "_", "." or "-" (it '
                f'is part of metric keys), or None, got {name!r}')
        self._name = name
        self.log_interval = check_int(cls, 'log_interval', log_interval)
        self.progress = CertificationProgress(self.name, self.log_interval)
        self.max_radius = max_certifiable_radius(self.sigma, self.n,
                                                 self.alpha)
        self.unreachable_radii = [r for r in self.radii if r > self.max_radius]
        if self.unreachable_radii:
            print_log(
                f"{cls} '{self.name}': radii "
                f"{', '.join(f'{r:g}' for r in self.unreachable_radii)} "
                f'exceed {self.max_radius:.4f} = sigma * '
                'Phi^-1(alpha^(1/n)), the largest radius n='
                f'{self.n} draws can certify at alpha={self.alpha:g} (all '
                'draws agreeing); their certified accuracy is 0 by '
                'construction. Raise n (or sigma) to certify them',
                logger='current',
                level=logging.WARNING)

    @property
    def name(self) -> str:
        return self._name or f'smooth_{self.norm}_sigma{self.sigma:g}'

    def settings(self) -> Dict:
        """Every setting that determines the result (for result JSON)."""
        return dict(
            type=type(self).__name__,
            name=self.name,
            norm=self.norm,
            sigma=self.sigma,
            n0=self.n0,
            n=self.n,
            alpha=self.alpha,
            batch_size=self.batch_size,
            seed=self.seed,
            radii=list(self.radii),
            max_radius=self.max_radius)

    def start(self, total: Optional[int] = None) -> None:
        """Begin an evaluation of ``total`` image certifications (for the
        ETA of the progress lines; None: unknown)."""
        self.progress.start(total)

    # ------------------------------------------------------------ sampling
    def counts(self, model: nn.Module, x: torch.Tensor, num: int,
               gen: torch.Generator) -> torch.Tensor:
        r"""Class counts of :math:`f(x + \delta_i)` over ``num`` draws,
        ``batch_size`` per forward (``x`` one image, C×H×W)."""
        dtype = model_dtype(model, x.dtype)
        total: Optional[torch.Tensor] = None
        left = num
        while left > 0:
            size = min(self.batch_size, left)
            left -= size
            noise = torch.randn((size, ) + tuple(x.shape), generator=gen,
                                device=x.device, dtype=x.dtype)
            logits = model((x.unsqueeze(0) + self.sigma * noise).to(dtype))
            batch = torch.bincount(
                logits.argmax(dim=1), minlength=logits.shape[1])
            total = batch if total is None else total + batch
        return total

    def certify_one(self, model: nn.Module, x: torch.Tensor,
                    sample_idx: int) -> Dict:
        """CERTIFY of one image ``x`` (C×H×W) of dataset index
        ``sample_idx``: ``dict(sample_idx, prediction, radius, count,
        p_lower)``, ``prediction = -1`` (radius 0) when abstaining."""
        gen = sample_generator(self.seed, sample_idx, x.device)
        c_hat = int(self.counts(model, x, self.n0, gen).argmax())
        estimation = self.counts(model, x, self.n, gen)
        k = int(estimation[c_hat])
        p_lower = clopper_pearson_lower(k, self.n, self.alpha)
        if p_lower < 0.5:
            prediction, radius = ABSTAIN, 0.0
        else:
            prediction, radius = c_hat, smoothed_radius(p_lower, self.sigma)
        return dict(sample_idx=int(sample_idx), prediction=prediction,
                    radius=radius, count=k, p_lower=p_lower)

    def certify(self, model: nn.Module, x: torch.Tensor,
                sample_idx: Sequence[int]) -> List[Dict]:
        """CERTIFY every image of a batch (see :meth:`certify_one`).

        Args:
            model (nn.Module): The base classifier, ``x ∈ [0, 1] ↦
                logits`` (normalisation inside).
            x (Tensor): Images in ``[0, 1]``, (B, C, H, W).
            sample_idx (Sequence[int]): Dataset index of each image (seeds
                its noise).

        Returns:
            list[dict]: One result per image, in batch order.
        """
        owner = f"{type(self).__name__} '{self.name}'"
        check_pixels(owner, x)
        sample_idx = [int(i) for i in sample_idx]
        if len(sample_idx) != x.shape[0]:
            raise ValueError(
                f'{owner}: {len(sample_idx)} sample indices for a batch of '
                f'{x.shape[0]} images; give one sample_idx per image')
        results = []
        with frozen_eval(model), torch.no_grad():
            for j, idx in enumerate(sample_idx):
                results.append(self.certify_one(model, x[j].detach(), idx))
                self.progress.update(1)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sigma={self.sigma:g}, n0={self.n0}, '
                f'n={self.n}, alpha={self.alpha:g}, seed={self.seed})')


r"""Checks of attack arguments and inputs, raised before any gradient.

Budgets and steps live in the pixel scale of their norm: images are points
of the cube :math:`[0, 1]^d`, :math:`d = C \cdot H \cdot W`, whose diameter
is

.. math::
    D_\infty = 1, \qquad D_2 = \sqrt{d}, \qquad D_1 = d,

so an L∞ ε (or step) above 1, or an L2/L1 one above :math:`D_p`, reaches
every image from every other: it is a value written in the 0–255 scale.
The L∞ bound is known at build time (:func:`check_pixel_scale`); the L2/L1
one needs the input shape (:func:`check_fits_cube`, at each call). Every
error names the key and the fix.
"""
import math
import numbers
import re
from itertools import chain
from typing import Optional, Sequence

import torch
from torch import nn

NORM_TITLES = {'linf': 'L∞', 'l2': 'L2', 'l1': 'L1'}


def check_real(owner: str, key: str, value) -> float:
    """``value`` as a finite float; TypeError for a bool, a string or a
    non-number, ValueError for NaN/inf (naming ``key`` and the fix)."""
    if isinstance(value, str):
        expr = re.sub(r'\s*/\s*', ' / ', value.strip())
        raise TypeError(
            f'{owner}: {key}={value!r} is a string; write {expr} as a '
            'Python expression in the config, not a string')
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{owner}: {key} must be a real number, got '
                        f'{value!r} ({type(value).__name__})')
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f'{owner}: {key} must be a finite number, got '
                         f'{value}')
    return value


def check_int(owner: str,
              key: str,
              value,
              minimum: Optional[int] = 1) -> int:
    """``value`` as an int (a bool refused) ``>= minimum`` (ValueError
    naming ``key``)."""
    bound = '' if minimum is None else f' >= {minimum}'
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or (minimum is not None and value < minimum):
        raise ValueError(f'{owner}: {key} must be an int{bound}, got '
                         f'{value!r}')
    return int(value)


def check_pixel_scale(owner: str, key: str, value, norm: str) -> float:
    """A budget or step (``eps``, ``alpha``) as a float: finite, ``>= 0``
    and, under L∞, at most 1 (the pixel scale). ValueError/TypeError
    naming ``key`` and the fix."""
    value = check_real(owner, key, value)
    if value < 0:
        raise ValueError(f'{owner}: {key} must be >= 0, got {value:g}')
    if norm == 'linf' and value > 1:
        raise ValueError(
            f'{owner}: {key}={value:g} is not in the [0, 1] pixel scale of '
            f'L∞ budgets; pixels are in [0, 1]: write {key}={value:g} / 255 '
            f'(= {value / 255:.5f}), not {key}={value:g}')
    return value


def check_step_within_radius(owner: str, attack) -> None:
    """Refuse a PGD step size α larger than its radius ε (``model.attack``
    of a training or distillation algorithm): α > ε is almost always the
    two swapped, as in ``PGDAttack(2 / 255, 8 / 255)`` read off code that
    takes the step first. FGSM-RS's α = 1.25ε is not checked here."""
    alpha = getattr(attack, 'radii', {}).get('alpha')
    if alpha is not None and alpha > attack.eps:
        raise ValueError(
            f'{owner}: model.attack.alpha={alpha:.5g} (the step size) '
            f'exceeds model.attack.eps={attack.eps:.5g} (the radius): are '
            'they swapped? PGDAttack takes eps first, e.g. eps=8 / 255, '
            'alpha=2 / 255')


def cube_diameter(sample_shape: Sequence[int], norm: str) -> float:
    r"""Diameter of :math:`[0, 1]^d` in ``norm``, :math:`d` = the product
    of ``sample_shape``: 1 (L∞), :math:`\sqrt{d}` (L2), :math:`d` (L1)."""
    d = math.prod(sample_shape)
    return {'linf': 1.0, 'l2': math.sqrt(d), 'l1': float(d)}[norm]


def check_fits_cube(owner: str, key: str, value: float, norm: str,
                    sample_shape: Sequence[int]) -> None:
    """``value <= cube_diameter(sample_shape, norm)`` (ValueError naming
    ``key``, the diameter for this input and the fix)."""
    diameter = cube_diameter(sample_shape, norm)
    if value <= diameter:
        return
    d = math.prod(sample_shape)
    cube = '×'.join(str(s) for s in sample_shape)
    formula = {'linf': '1', 'l2': f'sqrt({d})', 'l1': f'{d}'}[norm]
    raise ValueError(
        f'{owner}: {key}={value:g} exceeds {diameter:.4g}, the '
        f'{NORM_TITLES[norm]} diameter of the image cube [0, 1]^({cube}) '
        f'(= {formula}): every image is that close to every other. Write '
        f'{key} in the [0, 1] pixel scale, at most {diameter:.4g} for this '
        'input (e.g. 0.5 for L2), not in 0-255')


def check_pixels(owner: str, x) -> None:
    """``x``: a floating batch ``(B, ...)`` of finite pixels in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'{owner}: inputs must be a tensor of pixels in '
                        f'[0, 1], got {type(x).__name__}')
    if not x.is_floating_point():
        raise TypeError(
            f'{owner}: inputs must be floating-point pixels in [0, 1], got '
            f'{x.dtype}; divide by 255 first (x.float() / 255)')
    if x.dim() < 2:
        raise ValueError(f'{owner}: inputs must be a batch (B, C, H, W), '
                         f'got shape {tuple(x.shape)}')
    if x.numel() == 0:
        return
    finite = torch.isfinite(x).flatten(1).all(dim=1)
    if not finite.all():
        bad = (~finite).nonzero().squeeze(1).tolist()
        n = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f'{owner}: inputs have {n} non-finite pixels (NaN or inf) in '
            f'{len(bad)} of {x.shape[0]} images (batch indices '
            f'{bad[:8]}); an attack would turn them into NaN images. Fix '
            'the data (or the transform) that produced them')
    low, high = x.min().item(), x.max().item()
    if low < 0 or high > 1:
        raise ValueError(
            f'{owner}: inputs must be pixels in [0, 1], got range '
            f'[{low:.3g}, {high:.3g}]; pass images before mean/std '
            'normalisation')


def model_dtype(model: nn.Module, default: torch.dtype) -> torch.dtype:
    """The floating dtype of the model's first floating parameter (or
    buffer): the dtype its inputs must have; ``default`` if none."""
    for t in chain(model.parameters(), model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return default

"""attacks.checks: numbers, ints, the pixel scale, the image cube's
diameter, the input pixels and the model's dtype."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from kdiga_mmrazor.attacks.checks import (
    check_fits_cube,
    check_int,
    check_pixel_scale,
    check_pixels,
    check_real,
    cube_diameter,
    model_dtype,
)


@pytest.mark.parametrize('value', [0, 3, 0.25, np.float32(0.5),
                                   np.int64(2)])
def test_real_numbers_come_back_as_floats(value):
    out = check_real('A', 'eps', value)
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize('value, error, match', [
    ('8/255', TypeError, r"^A: eps='8/255' is a string; write 8 / 255 as a "
     r'Python expression in the config, not a string$'),
    (' 2 /255', TypeError, r'write 2 / 255 as a Python expression'),
    (False, TypeError, r'^A: eps must be a real number, got False \(bool\)$'),
    ([8], TypeError, r'^A: eps must be a real number, got \[8\] \(list\)$'),
    (torch.tensor(0.1), TypeError, r'\(Tensor\)$'),
    (float('nan'), ValueError, r'^A: eps must be a finite number, got nan$'),
    (-float('inf'), ValueError, r'got -inf$'),
])
def test_non_numbers_and_non_finite_values_are_refused(value, error, match):
    with pytest.raises(error, match=match):
        check_real('A', 'eps', value)


def test_ints_are_checked_against_the_minimum():
    assert check_int('A', 'steps', np.int64(3)) == 3
    assert check_int('A', 'seed', -2, minimum=None) == -2
    for bad in (0, True, 2.0, '10'):
        with pytest.raises(ValueError, match=rf'^A: steps must be an int >= '
                           rf'1, got {bad!r}$'):
            check_int('A', 'steps', bad)


def test_linf_pixel_scale_is_zero_to_one():
    assert check_pixel_scale('A', 'eps', 1, 'linf') == 1.0
    assert check_pixel_scale('A', 'eps', 0, 'linf') == 0.0
    with pytest.raises(ValueError, match=r'^A: alpha=2 is not in the \[0, 1\]'
                       r' pixel scale of L∞ budgets; pixels are in \[0, 1\]: '
                       r'write alpha=2 / 255 \(= 0\.00784\), not alpha=2$'):
        check_pixel_scale('A', 'alpha', 2, 'linf')


@pytest.mark.parametrize('norm', ['linf', 'l2', 'l1'])
def test_negative_budgets_get_the_sign_message_not_the_255_hint(norm):
    with pytest.raises(ValueError, match=r'^A: eps must be >= 0, got -0\.1$'):
        check_pixel_scale('A', 'eps', -0.1, norm)


def test_l2_and_l1_budgets_above_one_are_left_to_the_call():
    assert check_pixel_scale('A', 'eps', 128, 'l2') == 128.0
    assert check_pixel_scale('A', 'eps', 128, 'l1') == 128.0


def test_cube_diameters():
    assert cube_diameter((3, 32, 32), 'linf') == 1.0
    assert cube_diameter((3, 32, 32), 'l2') == math.sqrt(3072)  # 55.43
    assert cube_diameter((3, 32, 32), 'l1') == 3072.0


def test_l2_eps_in_255_scale_exceeds_the_cifar_cube():
    check_fits_cube('A', 'eps', 55.4, 'l2', (3, 32, 32))  # < √3072
    with pytest.raises(ValueError, match=(
            r'^A: eps=128 exceeds 55\.43, the L2 diameter of the image cube '
            r'\[0, 1\]\^\(3×32×32\) \(= sqrt\(3072\)\): every image is that '
            r'close to every other\. Write eps in the \[0, 1\] pixel scale, '
            r'at most 55\.43 for this input \(e\.g\. 0\.5 for L2\), not in '
            r'0-255$')):
        check_fits_cube('A', 'eps', 128, 'l2', (3, 32, 32))


def test_pixels_pass_when_finite_floating_and_in_range():
    check_pixels('A', torch.rand(2, 3, 4, 4, dtype=torch.float64))
    check_pixels('A', torch.zeros(0, 3, 4, 4))


@pytest.mark.parametrize('x, error, match', [
    ([0.5], TypeError, r'^A: inputs must be a tensor of pixels in \[0, 1\], '
     r'got list$'),
    (torch.zeros(4), ValueError, r'^A: inputs must be a batch \(B, C, H, W\)'
     r', got shape \(4,\)$'),
    (torch.full((2, 3), 2.0), ValueError, r'range \[2, 2\]'),
])
def test_bad_pixels_are_refused(x, error, match):
    with pytest.raises(error, match=match):
        check_pixels('A', x)


def test_non_finite_pixels_are_counted_per_image():
    x = torch.full((4, 3), 0.5)
    x[0, 0] = x[0, 1] = float('nan')
    x[2, 2] = float('inf')
    with pytest.raises(ValueError, match=r'^A: inputs have 3 non-finite '
                       r'pixels \(NaN or inf\) in 2 of 4 images \(batch '
                       r'indices \[0, 2\]\)'):
        check_pixels('A', x)


def test_model_dtype_is_its_parameters_or_the_default():
    assert model_dtype(nn.Linear(2, 2), torch.float64) == torch.float32
    assert model_dtype(nn.Linear(2, 2).double(),
                       torch.float32) == torch.float64
    assert model_dtype(nn.Identity(), torch.float64) == torch.float64
    bn = nn.BatchNorm1d(2, affine=False).double()  # buffers only
    assert model_dtype(bn, torch.float32) == torch.float64

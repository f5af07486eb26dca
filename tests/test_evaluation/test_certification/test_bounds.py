"""Clopper–Pearson lower bounds and certified radii against SciPy's
Beta and normal quantiles, and the exact coverage of the bound."""
import math

import numpy as np
import pytest
from scipy.stats import beta, binom, norm

from kdiga_mmrazor.evaluation.certification import (
    clopper_pearson_lower,
    max_certifiable_radius,
    smoothed_radius,
)


@pytest.mark.parametrize('k, n, alpha', [(7, 10, 0.05), (700, 1000, 0.001),
                                         (99_990, 100_000, 0.001),
                                         (1, 3, 0.2)])
def test_lower_bound_is_the_alpha_quantile_of_beta(k, n, alpha):
    assert clopper_pearson_lower(k, n, alpha) == pytest.approx(
        beta.ppf(alpha, k, n - k + 1), rel=1e-9)


def test_lower_bound_at_the_ends():
    assert clopper_pearson_lower(0, 50, 0.01) == 0.0
    # all n agree: P(Bin(n, p) = n) = p^n = alpha
    assert clopper_pearson_lower(50, 50, 0.01) == pytest.approx(
        0.01**(1 / 50), rel=1e-10)


def test_lower_bound_has_exact_one_sided_coverage():
    """max_p P_k(lower(k) > p) lies in (alpha/2, alpha]: at most alpha
    (a valid one-sided bound) and above alpha/2 (not the lower end of a
    two-sided 1 - alpha interval, which would waste half of alpha)."""
    n, alpha = 40, 0.05
    lower = np.array([clopper_pearson_lower(k, n, alpha)
                      for k in range(n + 1)])
    worst = 0.0
    for p in np.linspace(0.01, 0.99, 197):
        exceed = binom.pmf(np.arange(n + 1), n, p)[lower > p].sum()
        assert exceed <= alpha + 1e-12, p
        worst = max(worst, exceed)
    assert alpha / 2 < worst <= alpha


def test_radius_is_sigma_times_the_normal_quantile():
    assert smoothed_radius(0.5, 0.25) == 0.0
    assert smoothed_radius(norm.cdf(1.0), 0.25) == pytest.approx(0.25)
    assert smoothed_radius(0.3, 1.0) < 0  # below 1/2: no certificate


@pytest.mark.parametrize('sigma, n, alpha, expected', [
    (0.25, 100_000, 0.001, 0.9528641),
    (0.25, 1000, 0.001, 0.6158157),
    (0.5, 100_000, 0.001, 2 * 0.9528641),
])
def test_largest_certifiable_radius(sigma, n, alpha, expected):
    radius = max_certifiable_radius(sigma, n, alpha)
    assert radius == pytest.approx(expected, rel=1e-6)
    assert radius == pytest.approx(
        sigma * norm.ppf(math.exp(math.log(alpha) / n)), rel=1e-12)
    assert radius == pytest.approx(
        smoothed_radius(clopper_pearson_lower(n, n, alpha), sigma),
        rel=1e-9)

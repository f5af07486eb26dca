r"""The statistics of a randomized-smoothing certificate (SciPy).

Of :math:`n` noisy copies of an image, :math:`k` are classified as the
selected class :math:`\hat c_A`; :math:`k \sim \mathrm{Bin}(n, p_A)`.
The one-sided :math:`(1 - \alpha)` Clopper–Pearson lower bound of
:math:`p_A` is the :math:`\alpha` quantile of a Beta distribution,

.. math::
    \underline{p_A} = B^{-1}(\alpha;\, k,\, n - k + 1)
    \quad (0 \text{ when } k = 0),

the lower end of the two-sided exact interval at level :math:`1 - 2\alpha`
(what ``statsmodels.proportion_confint(k, n, alpha=2 * alpha,
method='beta')[0]`` gives in Cohen et al.'s code). Theorem 1 of Cohen,
Rosenfeld & Kolter (2019) certifies the smoothed classifier at L2 radius

.. math::
    R = \sigma\, \Phi^{-1}(\underline{p_A})

when :math:`\underline{p_A} \ge \tfrac12`. Since
:math:`\underline{p_A} \le \alpha^{1/n}` (equality when :math:`k = n`),
no certificate of :math:`n` samples exceeds
:math:`R_{\max} = \sigma\, \Phi^{-1}(\alpha^{1/n})`.
"""
import math

from scipy.stats import binomtest, norm


def clopper_pearson_lower(k: int, n: int, alpha: float) -> float:
    r"""The one-sided :math:`(1 - \alpha)` Clopper–Pearson lower bound of
    a binomial proportion from :math:`k` successes in :math:`n` trials.

    Args:
        k (int): Successes, ``0 <= k <= n``.
        n (int): Trials, ``n >= 1``.
        alpha (float): Error probability, ``0 < alpha < 0.5``.

    Returns:
        float: :math:`\underline{p}` with :math:`P(p < \underline{p}) \le
        \alpha` over the draw of :math:`k`.
    """
    interval = binomtest(int(k), int(n)).proportion_ci(
        confidence_level=1 - 2 * alpha, method='exact')
    return float(interval.low)


def smoothed_radius(p_lower: float, sigma: float) -> float:
    r"""The certified L2 radius :math:`\sigma\,\Phi^{-1}(\underline{p_A})`
    (Cohen et al. 2019, Theorem 1 with :math:`\overline{p_B} = 1 -
    \underline{p_A}`); negative below :math:`\tfrac12` (no certificate),
    infinite at 1."""
    return float(sigma * norm.ppf(p_lower))


def max_certifiable_radius(sigma: float, n: int, alpha: float) -> float:
    r"""The radius reached when all :math:`n` samples agree:
    :math:`\sigma\,\Phi^{-1}(\alpha^{1/n})`, the largest any certificate
    of :math:`n` samples at level :math:`\alpha` can give."""
    return smoothed_radius(math.exp(math.log(alpha) / n), sigma)

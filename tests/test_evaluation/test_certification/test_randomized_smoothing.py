r"""RandomizedSmoothing against the closed form of a linear classifier,
determinism by (seed, sample_idx), and its argument checks.

For :math:`f(x) = \arg\max (Wx + b)` with two classes, :math:`w = W_1 -
W_0`, :math:`c = b_1 - b_0` and :math:`\delta \sim \mathcal N(0,
\sigma^2 I)`, :math:`w \cdot \delta \sim \mathcal N(0, \sigma^2
\|w\|^2)`, so :math:`p_1 = \Phi((w \cdot x + c) / (\sigma \|w\|))` and the
exact radius :math:`\sigma \Phi^{-1}(p_A)` is the distance
:math:`|w \cdot x + c| / \|w\|` of :math:`x` to the decision boundary.
"""
import math

import pytest
import torch
from scipy.stats import beta, binomtest, norm
from torch import nn

from kdiga_mmrazor.evaluation.certification import (
    ABSTAIN,
    RandomizedSmoothing,
    clopper_pearson_lower,
)

W = torch.tensor([[0.2, -0.1, 0.3, 0.0], [-0.3, 0.4, 0.1, 0.5]])
W_DIFF = W[1] - W[0]
W_NORM = float(W_DIFF.norm())
X = torch.full((1, 1, 2, 2), 0.5)  # a 1×2×2 image


class Linear2(nn.Module):
    """Logits ``W x + (0, c)`` of a flattened 1×2×2 image."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(W.clone())
        self.bias = nn.Parameter(torch.tensor([0.0, c]))

    def forward(self, x):
        return x.flatten(1) @ self.weight.t() + self.bias


def at_distance(t: float) -> Linear2:
    """A model whose boundary is at signed distance ``t`` from :data:`X`
    (``t > 0``: class 1)."""
    return Linear2(t * W_NORM - float(X.flatten() @ W_DIFF))


def exact_p1(model: Linear2, x: torch.Tensor, sigma: float) -> float:
    with torch.no_grad():
        w = model.weight[1] - model.weight[0]
        score = float(x.flatten() @ w + model.bias[1] - model.bias[0])
    return float(norm.cdf(score / (sigma * float(w.norm()))))


@pytest.mark.parametrize('p_a, top', [(0.9, 1), (0.75, 0), (0.99, 1)])
def test_certificate_of_a_linear_classifier_within_clopper_pearson(p_a, top):
    sigma, n, alpha = 0.5, 20_000, 0.001
    distance = sigma * norm.ppf(p_a)
    model = at_distance(distance if top == 1 else -distance)
    p_exact = exact_p1(model, X, sigma)
    p_exact = p_exact if top == 1 else 1 - p_exact
    assert p_exact == pytest.approx(p_a, rel=1e-5)
    smoothing = RandomizedSmoothing(sigma, n0=100, n=n, alpha=alpha,
                                    radii=(0.0, ), seed=1)
    result, = smoothing.certify(model, X, [0])
    k = result['count']
    assert result['prediction'] == top
    # the empirical k / n: its two-sided 1 - 1e-6 exact interval holds p_A
    interval = binomtest(k, n).proportion_ci(
        confidence_level=1 - 1e-6, method='exact')
    assert interval.low <= p_exact <= interval.high
    assert result['p_lower'] == pytest.approx(
        beta.ppf(alpha, k, n - k + 1), rel=1e-9)
    assert result['p_lower'] <= p_exact
    # R <= the distance to the boundary, and no further below it than the
    # bound of a count 5 standard deviations under its mean
    assert result['radius'] <= distance
    k_low = math.floor(n * p_exact - 5 * math.sqrt(n * p_exact *
                                                   (1 - p_exact)))
    assert result['radius'] >= sigma * norm.ppf(
        clopper_pearson_lower(k_low, n, alpha))
    assert result['radius'] == pytest.approx(
        sigma * norm.ppf(result['p_lower']), rel=1e-12)


def test_an_input_near_the_boundary_abstains():
    sigma, n = 0.5, 10_000
    model = at_distance(sigma * norm.ppf(0.502))  # p_1 = 0.502
    result, = RandomizedSmoothing(sigma, n=n, seed=0).certify(model, X, [0])
    assert result['prediction'] == ABSTAIN
    assert result['radius'] == 0.0
    assert result['p_lower'] < 0.5


def test_a_far_input_gets_the_radius_cap_when_all_draws_agree():
    sigma, n, alpha = 0.25, 5000, 0.001
    model = at_distance(10 * sigma)  # p_1 = 1 - 7.6e-24
    smoothing = RandomizedSmoothing(sigma, n=n, alpha=alpha,
                                    radii=(0.0, 0.5))
    result, = smoothing.certify(model, X, [3])
    assert result['count'] == n and result['prediction'] == 1
    cap = sigma * norm.ppf(alpha**(1 / n))
    assert cap == pytest.approx(0.7483, abs=1e-4)
    assert result['radius'] == pytest.approx(cap, rel=1e-9)
    assert smoothing.max_radius == pytest.approx(cap, rel=1e-9)


def test_the_lower_bound_holds_with_probability_1_minus_alpha():
    """Over 200 seeds the bound exceeds p_A about alpha = 10% of the time
    (Clopper–Pearson is conservative), far from the ~50% of the plain
    estimate k / n."""
    sigma, n, alpha = 0.5, 100, 0.1
    model = at_distance(sigma * norm.ppf(0.8))
    p_exact = exact_p1(model, X, sigma)
    exceed = 0
    for seed in range(200):
        smoothing = RandomizedSmoothing(sigma, n0=10, n=n, alpha=alpha,
                                        radii=(0.0, ), seed=seed)
        exceed += smoothing.certify(model, X, [0])[0]['p_lower'] > p_exact
    assert exceed <= 200 * alpha + 3 * math.sqrt(200 * alpha * (1 - alpha))


def _points(sigma, probabilities):
    """Images along w whose p_1 are ``probabilities`` (model c = 0)."""
    model = Linear2(0.0)
    base = float(X.flatten() @ W_DIFF)
    unit = (W_DIFF / W_NORM).view(1, 1, 2, 2)
    xs = [X + (sigma * norm.ppf(p) - base / W_NORM) * unit
          for p in probabilities]
    return model, torch.cat(xs).clamp(0, 1)


def test_same_seed_same_certificates_whatever_the_batches_and_order():
    sigma = 0.5
    model, x = _points(sigma, [0.6, 0.7, 0.8, 0.9, 0.65, 0.75])
    idx = [10, 11, 12, 13, 14, 15]
    smoothing = RandomizedSmoothing(sigma, n0=50, n=500, batch_size=128,
                                    radii=(0.0, ), seed=3)
    whole = smoothing.certify(model, x, idx)
    order = [4, 1, 5, 0, 3, 2]
    parts = smoothing.certify(model, x[order[:2]], [idx[j] for j in
                                                     order[:2]])
    parts += smoothing.certify(model, x[order[2:]], [idx[j] for j in
                                                      order[2:]])
    by_idx = {r['sample_idx']: r for r in parts}
    assert [by_idx[i] for i in idx] == whole
    other = RandomizedSmoothing(sigma, n0=50, n=500, batch_size=128,
                                radii=(0.0, ), seed=4).certify(model, x, idx)
    assert [r['count'] for r in other] != [r['count'] for r in whole]
    # the dataset index, not the position, seeds the noise
    shifted = smoothing.certify(model, x, [i + 100 for i in idx])
    assert [r['count'] for r in shifted] != [r['count'] for r in whole]


def test_the_base_classifier_runs_in_eval_mode_without_gradients():
    seen = []

    class Probe(nn.Module):

        def __init__(self):
            super().__init__()
            self.inner = at_distance(1.0)
            self.drop = nn.Dropout(0.9)

        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled()))
            return self.inner(self.drop(x))

    model = Probe().train()
    result, = RandomizedSmoothing(0.25, n0=5, n=400, batch_size=100,
                                  radii=(0.0, )).certify(model, X, [0])
    assert set(seen) == {(False, False)}
    assert len(seen) == 1 + 4  # n0 in one forward, n in four
    assert model.training and model.inner.weight.requires_grad
    assert result['count'] == 400  # Dropout off: distance 1 = 4 sigma


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(sigma=0), ValueError, 'sigma must be > 0'),
    (dict(sigma=-0.25), ValueError, 'sigma must be > 0'),
    (dict(sigma=float('nan')), ValueError, 'sigma must be a finite'),
    (dict(sigma='0.25'), TypeError, 'sigma=.*string'),
    (dict(n0=0), ValueError, 'n0 must be an int >= 1'),
    (dict(n=0), ValueError, 'n must be an int >= 1'),
    (dict(n=1e5), ValueError, 'n must be an int >= 1'),
    (dict(alpha=0), ValueError, 'alpha must satisfy 0 < alpha < 0.5'),
    (dict(alpha=0.5), ValueError, 'alpha must satisfy 0 < alpha < 0.5'),
    (dict(batch_size=0), ValueError, 'batch_size must be an int >= 1'),
    (dict(radii=()), TypeError, 'radii must be a non-empty list'),
    (dict(radii=0.5), TypeError, 'radii must be a non-empty list'),
    (dict(radii=(0.0, -0.25)), ValueError, r'radii\[1\] must be >= 0'),
    (dict(radii=(0.0, float('inf'))), ValueError,
     r'radii\[1\] must be a finite'),
    (dict(radii=(0.25, 0.25)), ValueError, 'radii must be distinct'),
    (dict(seed=0.5), ValueError, 'seed must be an int'),
    (dict(name='a/b'), ValueError, 'name must be letters'),
    (dict(name=''), ValueError, 'name must be letters'),
    (dict(log_interval=0), ValueError, 'log_interval must be an int >= 1'),
])
def test_arguments_are_checked_at_build(kwargs, error, match):
    kwargs = dict(dict(sigma=0.25), **kwargs)
    with pytest.raises(error, match=match):
        RandomizedSmoothing(**kwargs)


def test_inputs_are_checked():
    smoothing = RandomizedSmoothing(0.25, n=10, radii=(0.0, ))
    with pytest.raises(ValueError, match=r'pixels in \[0, 1\]'):
        smoothing.certify(Linear2(0.0), X * 255, [0])
    with pytest.raises(ValueError, match='one sample_idx per image'):
        smoothing.certify(Linear2(0.0), X, [0, 1])


def test_radii_beyond_the_cap_warn_at_build(mmengine_log):
    warnings = mmengine_log.view(contains='can certify')
    smoothing = RandomizedSmoothing(0.25, n=1000, radii=(0.0, 0.5, 0.75, 1))
    assert smoothing.unreachable_radii == [0.75, 1.0]
    warning, = warnings
    assert 'radii 0.75, 1 exceed 0.6158' in warning and 'n=1000' in warning
    RandomizedSmoothing(0.25, n=100_000, radii=(0.0, 0.5, 0.75))
    assert len(warnings) == 1  # 0.75 < 0.953: reachable, no warning


def test_name_and_settings():
    smoothing = RandomizedSmoothing(0.25, n=1000, radii=(0.5, 0.0), seed=2)
    assert smoothing.name == 'smooth_l2_sigma0.25'
    assert RandomizedSmoothing(0.5, name='rs-a.1').name == 'rs-a.1'
    assert smoothing.settings() == dict(
        type='RandomizedSmoothing', name='smooth_l2_sigma0.25', norm='l2',
        sigma=0.25, n0=100, n=1000, alpha=0.001, batch_size=1000, seed=2,
        radii=[0.0, 0.5], max_radius=pytest.approx(0.6158157, rel=1e-6))

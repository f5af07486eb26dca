"""Choosing γ: the monotone fit by hand, the crossing of a trade-off known
in closed form (never above it), the edge cases, rounding down, and the
outputs of a whole (faked) calibration."""
import json
import math
import random

import pytest

from kdiga_mmrazor.engine.gamma_calibration import (
    Calibration,
    calibrate,
    format_gamma,
    interpolate_log,
    pav_non_increasing,
    round_down,
    select_gamma,
)
from kdiga_mmrazor.engine.gamma_sweep import GAMMA_KEY, Sweep, geometric_grid

from ..conftest import REPO
from .conftest import FakeRuns, clean_of, robust_of

GRID = [0.01, 0.03, 0.1, 0.3, 1.0]


def mean(values):
    return sum(values) / len(values)


def test_pav_pools_adjacent_violators_by_hand():
    # 84 < 85: pool → 84.5; 84.5 < 86: pool the three → 85; 80 < 81 → 80.5
    assert pav_non_increasing([84, 85, 86, 80, 81]) == [85, 85, 85, 80.5,
                                                        80.5]
    assert pav_non_increasing([3, 1, 2]) == [3, 1.5, 1.5]
    assert pav_non_increasing([1, 2, 3, 4]) == [2.5] * 4
    assert pav_non_increasing([5, 4, 4, 1]) == [5, 4, 4, 1]


def test_pav_is_the_least_squares_non_increasing_fit():
    """Against the min-max formula of the isotonic fit, computed
    independently: f_i = min_{j ≤ i} max_{k ≥ i} mean(v_j … v_k)."""
    rng = random.Random(0)
    for _ in range(300):
        values = [rng.uniform(60, 90) for _ in range(rng.randint(1, 8))]
        n = len(values)
        expected = [min(max(mean(values[j:k + 1]) for k in range(i, n))
                        for j in range(i + 1)) for i in range(n)]
        assert pav_non_increasing(values) == pytest.approx(expected,
                                                           rel=1e-12)


@pytest.mark.parametrize('drop, chosen', [(3, 0.049), (5, 0.1), (8, 0.26)])
def test_the_chosen_gamma_is_the_known_crossing_never_above(drop, chosen):
    """clean(γ) = 85 − 10·log10(1 + γ/0.05) falls below 85 − P at
    γ = 0.05·(10^(P/10) − 1): 0.0498, 0.1081, 0.2655. The fit is concave
    in log γ, so its chords lie below it: the interpolated crossing is at
    or below the true one, and rounding down keeps it there."""
    grid = geometric_grid(0.01, 1.0, 9)
    result = select_gamma(grid, [clean_of(g) for g in grid],
                          [robust_of(g) for g in grid], clean_of(0), drop)
    true = 0.05 * (10**(drop / 10) - 1)
    assert result.status == 'crossing'
    assert true * 0.98 < result.crossing <= true
    assert result.gamma == chosen == round_down(result.crossing)
    assert result.target == 85 - drop
    assert clean_of(result.gamma) >= result.target
    assert result.expected_clean >= result.target
    assert result.expected_clean == pytest.approx(clean_of(result.gamma),
                                                  abs=0.05)
    assert result.expected_robust == pytest.approx(robust_of(result.gamma),
                                                   abs=1.0)
    assert [r['within'] for r in result.rows[1:]] == [
        g <= true for g in grid]
    assert result.cfg_options == f'--cfg-options {GAMMA_KEY}={chosen}'


def test_pav_matters_on_a_noisy_sweep():
    """Raw clean 84, 85, 86, 80, 81 at γ = 0.01 … 1, plain KD 86, P = 3
    (τ = 83). The fit is 85, 85, 85, 80.5, 80.5, crossing τ between 0.1
    and 0.3 at log γ* = log 0.1 + (85 − 83)/(85 − 80.5)·log 3: γ* = 0.1·3^(4/9)
    = 0.1629 → 0.16. (The raw points would cross at 0.1·√3 = 0.173, and
    the raw 81 at γ = 1 is not within either.)"""
    result = select_gamma(GRID, [84, 85, 86, 80, 81], [10, 20, 30, 40, 50],
                          86, 3, robust_kd=6)
    assert [r['fitted'] for r in result.rows] == [86, 85, 85, 85, 80.5,
                                                  80.5]
    assert [r['within'] for r in result.rows] == [None, True, True, True,
                                                  False, False]
    assert result.crossing == pytest.approx(0.1 * 3**(4 / 9), rel=1e-12)
    assert result.gamma == 0.16
    # 85 − 4.5·log(1.6)/log(3), 30 + 10·log(1.6)/log(3)
    assert result.expected_clean == pytest.approx(
        85 - 4.5 * math.log(1.6) / math.log(3), rel=1e-12)
    assert result.expected_robust == pytest.approx(
        30 + 10 * math.log(1.6) / math.log(3), rel=1e-12)
    assert result.rows[0] == dict(gamma=0.0, clean=86, robust=6, fitted=86,
                                  within=None)


def test_a_low_reference_run_is_pooled_with_the_small_gammas():
    """Plain KD's one run measured 76.6, below γ = 0.01 and 0.03 (79.8,
    81.4): the non-increasing fit pools the three at 79.27, so the target
    is 79.27 − 5 = 74.27, not 71.6. The fit 79.27, 79.27, 73.2 crosses it
    between 0.03 and 0.1 at log γ* = log 0.03 + (5/6.0667)·log(10/3):
    γ* = 0.0809 → 0.08 (the unpooled reference would allow 0.1)."""
    grid = [0.01, 0.03, 0.1, 0.3, 1.0]
    result = select_gamma(grid, [79.8, 81.4, 73.2, 54.2, 33.8],
                          [12.4, 28.2, 43.4, 40.4, 26.2], 76.6, 5,
                          robust_kd=1.0)
    pooled = (76.6 + 79.8 + 81.4) / 3
    assert result.fitted_kd == pytest.approx(pooled, rel=1e-12)
    assert result.clean_kd == 76.6
    assert result.target == pytest.approx(pooled - 5, rel=1e-12)
    crossing = 0.03 * (0.1 / 0.03)**(5 / (pooled - 73.2))
    assert result.crossing == pytest.approx(crossing, rel=1e-12)
    assert result.gamma == 0.08
    assert 'plain KD fitted 79.27 − 5' in result.message


def test_every_gamma_within_the_drop_chooses_the_largest_tried():
    result = select_gamma(GRID, [84, 83, 82, 81, 80], [10, 20, 30, 40, 50],
                          85, 5)
    assert (result.status, result.gamma, result.crossing) == (
        'all_within', 1.0, 1.0)
    assert 'is the largest γ tried; extend --gamma-max' in result.message
    assert result.expected_clean == 80 and result.expected_robust == 50


def test_no_gamma_within_the_drop_chooses_none():
    result = select_gamma(GRID, [80, 79, 78, 77, 76], [10, 20, 30, 40, 50],
                          85, 4.5)
    assert (result.status, result.gamma, result.cfg_options) == (
        'none_within', None, None)
    assert result.message.endswith('the smallest, γ = 0.01, fits 80.00: '
                                   'lower --gamma-min')
    assert [r['within'] for r in result.rows[1:]] == [False] * 5


def test_a_dominated_choice_is_pointed_out():
    """Robustness peaks at γ = 0.3: γ = 1 costs clean accuracy and gives
    less robustness; the message says so."""
    result = select_gamma([0.1, 0.3, 1.0], [84, 83, 82], [40, 55, 50], 85,
                          10)
    assert result.gamma == 1.0
    assert result.message.endswith('note: γ = 0.3 measured more robust '
                                   'accuracy (55.00) with no less clean '
                                   'accuracy')
    plain = select_gamma([0.1, 0.3, 1.0], [84, 83, 82], [40, 50, 55], 85,
                         10)
    assert 'note' not in plain.message


@pytest.mark.parametrize('value, down', [
    (0.1, 0.1), (0.16294982, 0.16), (0.0999999, 0.099), (123.4, 120.0),
    (0.30000000000000004, 0.3), (1.0, 1.0), (9.99, 9.9), (2e-05, 2e-05),
    (0.049999999999999996, 0.049),
])
def test_round_down_examples(value, down):
    assert round_down(value) == down


def test_round_down_never_rounds_up():
    rng = random.Random(0)
    for _ in range(2000):
        value = 10**rng.uniform(-4, 3)
        down = round_down(value)
        unit = 10**(math.floor(math.log10(value)) - 1)
        assert down <= value and value - down < unit * (1 + 1e-9)
        assert float(f'{down:.2g}') == down  # two significant digits


def test_rounding_keeps_the_choice_on_the_grid():
    """γ* = 0.01262 on a grid from 0.0125: two digits (0.012) would leave
    it, three (0.0126) do not; the line prints every digit of it."""
    result = select_gamma([0.0125, 0.02], [80, 70], [1, 2], 85, 5.2)
    assert result.crossing == pytest.approx(
        0.0125 * 1.6**(0.2 / 10), rel=1e-12)
    assert result.gamma == 0.0126
    assert result.cfg_options.endswith('loss_weight=0.0126')
    assert format_gamma(0.012345678912) == '0.012345678912'


@pytest.mark.parametrize('args, match', [
    ((GRID, [84, 83, 82, 81, float('nan')], [1] * 5, 85, 5), 'finite'),
    ((GRID, [84, 83, 82, 81], [1] * 5, 85, 5), 'one of each per γ'),
    ((GRID, [84] * 5, [1] * 5, float('inf'), 5), 'finite'),
    (([0.1, 0.01], [84, 83], [1, 2], 85, 5), 'increasing'),
    ((GRID, [84] * 5, [1] * 5, 85, -1), '--max-clean-drop must be ≥ 0'),
])
def test_bad_inputs_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        select_gamma(*args)


def test_interpolation_is_linear_in_log_gamma():
    assert interpolate_log([0.01, 1.0], [80, 60], 0.1) == pytest.approx(70)
    assert interpolate_log([0.01, 0.1, 1.0], [80, 70, 40], 10**-0.5) == \
        pytest.approx(55)


def test_calibrate_writes_the_table_the_result_and_the_plot(tmp_path):
    runs = FakeRuns()
    sweep = Sweep('configs/kdiga_resnet4b_resnet20_cifar10-pretrained.py',
                  GRID, iters=5, num_samples=20,
                  robust_eval=f'{REPO}/configs/_base_/robust_eval/'
                  'cifar10_linf_2_8.py')
    result, paths = calibrate(sweep, str(tmp_path), 5, run=runs)
    assert isinstance(result, Calibration) and len(runs.commands) == 12
    assert result.gamma == 0.1  # the crossing at 0.107 (true: 0.1081)
    assert result.rows[3]['work_dir'] == str(tmp_path / 'gamma_0.1')
    with open(paths['md']) as f:
        lines = f.read().splitlines()
    assert lines[0] == ('| γ | clean | pgd20_linf_2 | fitted clean | '
                        'clean ≥ 80.00 |')
    assert lines[2] == '| 0 (plain KD) | 85.00 | 7.00 | 85.00 | reference |'
    # 85 − 10·log10(7), 7 + 45·0.3/0.33
    assert lines[6] == '| 0.3 | 76.55 | 47.91 | 76.55 | no |'
    assert lines[-1].startswith('| **0.1** (chosen, interpolated) | – |')
    with open(paths['json']) as f:
        saved = json.load(f)
    assert saved['gamma'] == 0.1 and saved['status'] == 'crossing'
    assert saved['cfg_options'] == f'--cfg-options {GAMMA_KEY}=0.1'
    assert saved['sweep']['gammas'] == GRID
    assert saved['sweep']['iters'] == 5 and 'gamma' not in saved['sweep']
    with open(paths['png'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    again, _ = calibrate(sweep, str(tmp_path), 3, run=runs)
    assert len(runs.commands) == 12  # another drop: no new run
    assert again.gamma == round_down(again.crossing) < 0.05

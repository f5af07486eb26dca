"""The reproduction budgets: what each comparison gets, and that the CPU
budget's smoothing can certify the document's radii."""
import json
import math

from scipy.stats import norm

from kdiga_mmrazor.reproduction.budgets import BUDGETS


def test_training_budget_of_the_resnet_and_the_vit_pairs():
    cpu = BUDGETS['cpu']
    assert cpu.training().iters == 391 and cpu.training(vit=True).iters == 30
    assert cpu.training().pgd_samples == cpu.curve_samples == 500
    assert cpu.training().aa_samples == 50
    assert BUDGETS['paper'].training().iters is None  # the configs' own
    settings = json.loads(json.dumps(cpu.settings()))
    assert settings['gammas'] == [3.0]
    assert settings['calibration_gammas'] == [0.01, 0.1, 1.0]
    assert BUDGETS['paper'].calibration_gammas == (0.01, 0.03, 0.1, 0.3,
                                                   1.0)
    assert cpu.aa_pairs == ('pretrained', )
    assert BUDGETS['paper'].aa_pairs == ('pretrained', 'cnn', 'vit')


def test_every_budget_can_certify_radius_half_at_sigma_quarter():
    """With n draws all agreeing, Clopper–Pearson gives p ≥ α^(1/n), so
    the largest certifiable radius is σ·Φ⁻¹(α^(1/n)) (σ = 0.25,
    α = 0.001); the document reports radii up to 0.5."""
    for budget in BUDGETS.values():
        if budget.name == 'smoke':
            continue
        cap = 0.25 * norm.ppf(0.001**(1 / budget.smoothing_n))
        assert cap > 0.5, budget.name
    assert math.isclose(0.25 * norm.ppf(0.001**(1 / 1000)), 0.616,
                        abs_tol=1e-3)


def test_the_vit_pair_is_tested_on_its_own_subset():
    cpu = BUDGETS['cpu']
    assert cpu.test_samples('vit') == cpu.test_samples('vit', 'diagnostics')
    assert cpu.test_samples('vit') == 200 < cpu.curve_samples
    assert cpu.test_samples('cnn') == 500
    assert cpu.test_samples('cnn', 'diagnostics') == 200
    paper = BUDGETS['paper']
    assert paper.test_samples('vit') == paper.curve_samples == 10000

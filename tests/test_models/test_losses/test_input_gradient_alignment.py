"""InputGradientAlignmentLoss against hand-computed values."""
import pytest
import torch
from mmrazor.registry import MODELS

from kdiga_mmrazor.models.losses import InputGradientAlignmentLoss


def build(**kwargs):
    return MODELS.build(
        dict(_scope_='mmrazor', type='InputGradientAlignmentLoss', **kwargs))


@pytest.fixture
def grads():
    grad_S = torch.zeros(2, 1, 2, 2)
    grad_T = torch.zeros(2, 1, 2, 2)
    grad_T[0, 0, 0, 0] = 3.0  # sample 0: diff (−3, 0, 0, 0)
    grad_T[1, 0, :, 0] = 4.0  # sample 1: diff (−4, 0, −4, 0)
    grad_S[1, 0, 0, 1] = 1.0  # sample 1: and +1
    return grad_S, grad_T


@pytest.mark.parametrize('distance, per_sample', [
    ('l2', (3.0, (16 + 16 + 1)**0.5)),
    ('sq_l2', (9.0, 33.0)),
    ('l1', (3.0, 9.0)),
])
def test_per_sample_distances_match_hand_computed(grads, distance,
                                                  per_sample):
    loss = build(distance=distance, loss_weight=2.0)
    expected = 2.0 * sum(per_sample) / 2
    torch.testing.assert_close(loss(*grads), torch.tensor(expected))


def test_cosine_distance_is_one_minus_cosine():
    grad_S = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    grad_T = torch.tensor([[0.0, 2.0], [2.0, 2.0]])  # cos 0 and cos 1
    loss = build(distance='cosine', loss_weight=3.0)
    torch.testing.assert_close(loss(grad_S, grad_T),
                               torch.tensor(3.0 * ((1 - 0) + (1 - 1)) / 2))


def test_per_sample_mode_is_batch_size_invariant():
    torch.manual_seed(0)
    g_s, g_t = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    loss = build()
    doubled = loss(torch.cat([g_s, g_s]), torch.cat([g_t, g_t]))
    torch.testing.assert_close(doubled, loss(g_s, g_t))


def test_paper_mode_equals_the_authors_formula_on_a_random_batch():
    # main.py of RulinShao/AdversariallyRobustDistillation:
    #   s_grad = grad(XENT_loss(basic_net(x), y), x)   (batch-mean CE)
    #   loss += gamma / B * (s_grad - t_grad).norm(2)
    torch.manual_seed(0)
    batch, gamma = 8, 10.0
    x = torch.rand(batch, 3, 8, 8, requires_grad=True)
    y = torch.randint(0, 5, (batch, ))
    w_s, w_t = torch.randn(3 * 8 * 8, 5), torch.randn(3 * 8 * 8, 5)

    def input_grad(weight, reduction):
        ce = torch.nn.functional.cross_entropy(
            x.flatten(1) @ weight, y, reduction=reduction)
        return torch.autograd.grad(ce, x)[0]

    authors = gamma / batch * (input_grad(w_s, 'mean') -
                               input_grad(w_t, 'mean')).norm(2)
    ours = build(mode='paper', loss_weight=gamma)(input_grad(w_s, 'sum'),
                                                  input_grad(w_t, 'sum'))
    torch.testing.assert_close(ours, authors)


def test_paper_gamma_100_is_small_in_per_sample_units():
    # The authors' (γ/B)·‖G_s − G_t‖₂ with batch-mean gradients G is
    # γ/B² times a norm of the batch; for independent per-sample
    # differences ‖Σ_i d_i‖ ≈ √B·‖d‖, so paper/per-sample ≈ γ/B^1.5:
    # 100 / 128^1.5 ≈ 0.069 at B = 128.
    torch.manual_seed(0)
    g_s, g_t = torch.randn(128, 3, 4, 4), torch.randn(128, 3, 4, 4)
    paper = build(mode='paper', loss_weight=100.0)(g_s, g_t)
    per_sample = build()(g_s, g_t)
    assert 0.06 < (paper / per_sample).item() < 0.08


def test_teacher_gradient_is_treated_as_constant():
    g_s = torch.randn(2, 3, requires_grad=True)
    g_t = torch.randn(2, 3, requires_grad=True)
    build()(g_s, g_t).backward()
    assert g_s.grad is not None and g_t.grad is None


def test_half_precision_inputs_give_an_fp32_loss():
    g_s = torch.randn(2, 3).half()
    g_t = torch.randn(2, 3).half()
    assert build()(g_s, g_t).dtype == torch.float32


def test_identical_gradients_give_zero():
    g = torch.randn(3, 3, 4, 4)
    for distance in ('l2', 'sq_l2', 'l1', 'cosine'):
        assert build(distance=distance)(g, g.clone()).abs() < 1e-6


def test_unknown_distance_names_key_and_choices():
    with pytest.raises(ValueError, match=r"distance.*'l2'"):
        InputGradientAlignmentLoss(distance='l3')


def test_unknown_mode_and_negative_weight_are_refused():
    with pytest.raises(ValueError, match=r"mode.*'paper'"):
        InputGradientAlignmentLoss(mode='authors')
    for weight in (-1, float('nan'), float('inf'), '0.1', True):
        with pytest.raises(ValueError) as error:
            InputGradientAlignmentLoss(loss_weight=weight)
        assert str(error.value).endswith(
            f'loss_weight (γ) must be a finite number >= 0, got {weight!r}')


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match='same shape'):
        build()(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 8, 8))

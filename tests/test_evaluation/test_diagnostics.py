"""Diagnostics against closed forms: quadratic and linear losses, an affine
two-class model, hand-made gradients."""
import torch
from torch import nn
from torch.nn import functional as F

from kdiga_mmrazor.evaluation import (
    first_order_bound,
    gradient_misalignment,
    input_gradient,
    local_linearity,
    transfer_bound,
)

SHAPE = (3, 8, 8)
DIM = 3 * 8 * 8


def _images(n=2, low=0.25, high=0.75, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(n, *SHAPE, generator=gen)


def _sum_of_squares(logits, y):
    return (logits**2).sum(1)


def test_local_linearity_of_quadratic_loss_is_dim_eps_squared():
    # l(x) = ||x||²: l(x+δ) − l(x) − δᵀ2x = ||δ||², largest at |δ_k| = ε
    # (x ∈ [0.25, 0.75], so the [0, 1] box never binds): d·ε²
    x, eps = _images(), 0.05
    gamma = local_linearity(
        nn.Flatten(), x, torch.zeros(2, dtype=torch.long), eps, steps=10,
        loss_fn=_sum_of_squares)
    torch.testing.assert_close(gamma, torch.full((2, ), DIM * eps**2))


def test_local_linearity_is_clipped_to_the_pixel_box():
    # l(x) = Σ relu(x_k − 0.98)² at x_k = 0.98: l = 0, ∇l = 0, so the
    # error is Σ relu(δ_k)²; the box allows δ_k ≤ 0.02 < ε = 0.05, so
    # each coordinate adds at most 0.02² (0.05² if the box were ignored);
    # coordinates whose random start is positive climb to exactly 0.02
    x = torch.full((1, *SHAPE), 0.98)
    gamma = local_linearity(
        nn.Flatten(), x, torch.zeros(1, dtype=torch.long), 0.05, steps=10,
        loss_fn=lambda z, y: F.relu(z - 0.98).pow(2).sum(1)).item()
    assert gamma <= DIM * 0.02**2 + 1e-6, gamma
    # about half the starts are positive (each δ_k uniform in [−ε, ε])
    assert gamma >= 0.3 * DIM * 0.02**2, gamma


def test_local_linearity_of_linear_loss_is_zero():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(DIM, generator=gen)
    gamma = local_linearity(
        nn.Flatten(), _images(), torch.zeros(2, dtype=torch.long), 8 / 255,
        loss_fn=lambda z, y: z @ w)
    # float32 cancellation of l(x+δ) − l(x) − δᵀw with |l| ~ 10
    torch.testing.assert_close(gamma, torch.zeros(2), atol=1e-4, rtol=0)


def _affine(seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = 0.05 * torch.randn(DIM, generator=gen)

    def model(x):
        z = x.flatten(1) @ w
        return torch.stack([torch.zeros_like(z), z], 1)

    return model, w


def test_input_gradient_of_affine_model_matches_closed_form():
    # logits [0, z], z = wᵀx: CE(y=0) = softplus(z), ∇ = σ(z)·w;
    # CE(y=1) = softplus(−z), ∇ = −σ(−z)·w
    model, w = _affine()
    x, y = _images(), torch.tensor([0, 1])
    loss, grad, logits = input_gradient(model, x, y)
    z = x.flatten(1) @ w
    torch.testing.assert_close(
        loss, torch.stack([F.softplus(z[0]), F.softplus(-z[1])]))
    expected = torch.stack([torch.sigmoid(z[0]) * w, -torch.sigmoid(-z[1]) *
                            w]).view(2, *SHAPE)
    torch.testing.assert_close(grad, expected)
    torch.testing.assert_close(logits[:, 1], z)


def test_gradient_misalignment_hand_computed():
    g_s = torch.zeros(2, 1, 2, 2)
    g_t = torch.zeros(2, 1, 2, 2)
    g_s[0, 0, 0, 0], g_t[0, 0, 0, 1] = 3.0, 4.0  # orthogonal: l1 7, l2 5
    g_s[1] = g_t[1] = torch.arange(4.).view(1, 2, 2)  # identical
    out = gradient_misalignment(g_s, g_t)
    torch.testing.assert_close(out['grad_misalign_l1'],
                               torch.tensor([7.0, 0.0]))
    torch.testing.assert_close(out['grad_misalign_l2'],
                               torch.tensor([5.0, 0.0]))
    torch.testing.assert_close(out['grad_cos_sim'], torch.tensor([0.0, 1.0]))


def test_bounds_add_their_terms():
    loss, g1, gamma = torch.tensor([1.0]), torch.tensor([10.0]), torch.tensor(
        [0.5])
    torch.testing.assert_close(
        first_order_bound(loss, g1, 0.1, gamma), torch.tensor([1 + 1 + 0.5]))
    torch.testing.assert_close(
        transfer_bound(loss, torch.tensor([6.0]), torch.tensor([4.0]), 0.1,
                       gamma), torch.tensor([1 + 0.6 + 0.4 + 0.5]))


"""Toy pixel-space models for the attack tests: ``x ∈ [0, 1] ↦ logits``.

Images are 3×4×4 (48 features), batches of 8, all on CPU and seeded.
"""
import pytest
import torch
from torch import nn

import kdiga_mmrazor.attacks  # noqa: F401  (registers the attacks)

SHAPE = (3, 4, 4)
DIM = 3 * 4 * 4


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny tensors: one intra-op thread is fastest and spares a shared
    CPU; restored after each module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def margin(model: nn.Module, x: torch.Tensor,
           y: torch.Tensor) -> torch.Tensor:
    """``z_y − z_j`` of a 2-class model (``j = 1 − y``)."""
    with torch.no_grad():
        z = model(x)
    return z.gather(1, y[:, None]).squeeze(1) - z.gather(
        1, (1 - y)[:, None]).squeeze(1)


def _linear_model(weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    """``z = W flatten(x) + b`` with the given ``W`` (K×48) and ``b``."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(DIM, weight.shape[0]))
    with torch.no_grad():
        model[1].weight.copy_(weight)
        model[1].bias.copy_(bias)
    return model.eval()


@pytest.fixture
def two_class_linear():
    """A 2-class linear model and 8 images in the middle of the box.

    ``x ∈ [0.4, 0.6]``, so steps of ε ≤ 0.05 never reach the ``[0, 1]``
    clip and the closed forms of the worst case hold exactly.
    """
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(2, DIM, generator=gen)
    model = _linear_model(weight, torch.zeros(2))
    x = 0.4 + 0.2 * torch.rand(8, *SHAPE, generator=gen)
    with torch.no_grad():
        y = model(x).argmax(dim=1)
    return model, x, y


def _cluster_data(n: int, gen: torch.Generator, means: torch.Tensor):
    y = torch.arange(n) % means.shape[0]
    noise = 0.03 * torch.randn(n, DIM, generator=gen)
    x = (means[y] + noise).clamp(0, 1).view(n, *SHAPE)
    return x, y


@pytest.fixture(scope='module')  # after one_thread
def trained_mlp():
    """A 4-class MLP trained (300 Adam steps) on close Gaussian clusters
    (means 0.06 apart per pixel, noise σ = 0.03), so ε = 4/255 matters.

    Returns the eval-mode model and a held-out batch of 8 images (2 per
    class) that it classifies correctly, so robust accuracies start at 1.
    """
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    means = 0.47 + 0.06 * torch.rand(4, DIM, generator=gen)
    x_train, y_train = _cluster_data(512, gen, means)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(DIM, 32), nn.ReLU(), nn.Linear(32, 4))
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        optim.zero_grad()
        nn.functional.cross_entropy(model(x_train), y_train).backward()
        optim.step()
    model.eval()
    x_test, y_test = _cluster_data(64, gen, means)
    with torch.no_grad():
        correct = model(x_test).argmax(dim=1) == y_test
    keep = torch.cat([
        (correct & (y_test == c)).nonzero().squeeze(1)[:2] for c in range(4)
    ])
    assert keep.numel() == 8, 'the toy MLP should fit its clusters'
    return model.requires_grad_(False), x_test[keep], y_test[keep]


class TinyBNNet(nn.Module):
    """Conv + BatchNorm + dropout + linear, for the "left as found" tests."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.bn(self.conv(x))))
        return self.fc(x.flatten(1))


@pytest.fixture
def bn_net():
    """A :class:`TinyBNNet` in train mode with BN statistics that differ
    from their defaults, ``conv.bias`` frozen, and no ``.grad`` anywhere."""
    torch.manual_seed(0)
    net = TinyBNNet()
    with torch.no_grad():
        net(torch.rand(8, *SHAPE))  # move the running statistics
    net.conv.bias.requires_grad_(False)
    return net.train()


def _model_state(model: nn.Module) -> dict:
    """Everything an attack must leave as found."""
    return dict(
        training={n: m.training for n, m in model.named_modules()},
        requires_grad={
            n: p.requires_grad
            for n, p in model.named_parameters()
        },
        grads={n: p.grad for n, p in model.named_parameters()},
        buffers={n: b.clone() for n, b in model.named_buffers()},
        params={n: p.detach().clone() for n, p in model.named_parameters()})


def _assert_state_unchanged(before: dict, model: nn.Module) -> None:
    after = _model_state(model)
    assert after['training'] == before['training']
    assert after['requires_grad'] == before['requires_grad']
    assert all(g is None for g in after['grads'].values()), after['grads']
    for key in ('buffers', 'params'):
        for name, value in before[key].items():
            torch.testing.assert_close(
                after[key][name], value, rtol=0, atol=0, msg=name)


@pytest.fixture
def left_as_found():
    """``check(model, fn)``: run ``fn()``, assert ``model`` unchanged
    (modes, ``requires_grad``, no ``.grad``, buffers, parameters)."""

    def check(model: nn.Module, fn):
        before = _model_state(model)
        out = fn()
        _assert_state_unchanged(before, model)
        return out

    return check

"""Third-party ResNet files as their libraries store them: RobustBench's
``normalize_model`` wrapper, the robustness library's ``AttackerModel``
under DataParallel, plain torchvision/timm state dicts; and the
MMPretrain classifier they convert to."""
from collections import OrderedDict
from typing import Sequence

import pytest
import torch
import torchvision
from mmpretrain.registry import MODELS
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Not ImageNet's: shows the reported normalisation comes from the file.
OTHER_MEAN = (0.5, 0.4, 0.3)
OTHER_STD = (0.2, 0.25, 0.3)


class ImageNormalizer(nn.Module):
    """RobustBench's ``ImageNormalizer``: buffers of shape (1, 3, 1, 1)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class InputNormalize(nn.Module):
    """The robustness library's ``InputNormalize`` (shape (3, 1, 1))."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer('new_mean', torch.tensor(mean).view(3, 1, 1))
        self.register_buffer('new_std', torch.tensor(std).view(3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.clamp(x, 0, 1) - self.new_mean) / self.new_std


class Attacker(nn.Module):
    """The robustness library's ``Attacker`` (its own normaliser, the
    same model object)."""

    def __init__(self, model: nn.Module, mean, std) -> None:
        super().__init__()
        self.normalize = InputNormalize(mean, std)
        self.model = model


class AttackerModel(nn.Module):
    """The robustness library's ``AttackerModel``."""

    def __init__(self, model: nn.Module, mean, std) -> None:
        super().__init__()
        self.normalizer = InputNormalize(mean, std)
        self.model = model
        self.attacker = Attacker(model, mean, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.normalizer(x))


def normalize_model(model: nn.Module, mean, std,
                    named: bool = True) -> nn.Sequential:
    """RobustBench's ``normalize_model`` (``named=False``: an unnamed
    ``nn.Sequential``, keys ``0.``/``1.``)."""
    normalizer = ImageNormalizer(mean, std)
    if named:
        return nn.Sequential(
            OrderedDict([('normalize', normalizer), ('model', model)]))
    return nn.Sequential(normalizer, model)


def prefixed(weights: dict, prefix: str) -> OrderedDict:
    """``weights`` with ``prefix`` put before every key."""
    return OrderedDict((prefix + k, v) for k, v in weights.items())


def robustness_checkpoint(model: nn.Module, mean=IMAGENET_MEAN,
                          std=IMAGENET_STD) -> dict:
    """A robustness-library checkpoint file's content (DataParallel)."""
    wrapper = AttackerModel(model, mean, std)
    return dict(model=prefixed(wrapper.state_dict(), 'module.'),
                optimizer={}, schedule=None, epoch=90)


def mmpretrain_resnet(depth: int, in_channels: int,
                      num_classes: int = 1000, **backbone) -> nn.Module:
    """MMPretrain's ``ImageClassifier`` ResNet, eval mode."""
    return MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='ResNet', depth=depth, **backbone),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=num_classes,
                       in_channels=in_channels))).eval()


def normalized(x: torch.Tensor, normalization: dict) -> torch.Tensor:
    """``x`` normalised with a reported ``{'mean', 'std'}``."""
    mean = torch.tensor(normalization['mean']).view(1, -1, 1, 1)
    std = torch.tensor(normalization['std']).view(1, -1, 1, 1)
    return (x - mean) / std


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


@pytest.fixture(scope='session')
def resnet50() -> nn.Module:
    """torchvision's ResNet-50, random weights, eval mode."""
    torch.manual_seed(0)
    return torchvision.models.resnet50(weights=None).eval()


@pytest.fixture(scope='session')
def resnet18() -> nn.Module:
    """torchvision's ResNet-18, random weights, eval mode."""
    torch.manual_seed(1)
    return torchvision.models.resnet18(weights=None).eval()


@pytest.fixture
def image() -> torch.Tensor:
    """A 1×3×64×64 RGB image in [0, 1]."""
    return torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))

"""Shared fixtures: repository paths, the CIFAR-10 image folders, toy nets."""
import os
import os.path as osp

import pytest
import torch
from torch import nn

import kdiga_mmrazor  # noqa: F401  (compat layer, registration)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CHECKPOINTS = osp.join(REPO, 'checkpoints')
TEACHER_CKPT = osp.join(CHECKPOINTS, 'abcrown_resnet4b_linf2.pth')
RESNET20_CKPT = osp.join(CHECKPOINTS, 'akamaster_resnet20.th')


@pytest.fixture(scope='session')
def cifar10_folder() -> str:
    """CIFAR-10 as ``{train,test}/<class>/*.jpg`` (the tools' override)."""
    root = os.environ.get('KDIGA_CIFAR10_FOLDER',
                          osp.join(REPO, 'data', 'cifar10'))
    if not osp.isdir(osp.join(root, 'test')):
        pytest.fail(f'CIFAR-10 folders not found at {root}; run '
                    'bash tools/dataset_converters/prepare_cifar10.sh')
    return osp.abspath(root)


class TinyConvNet(nn.Module):
    """3×8×8 → logits; BatchNorm and Dropout to check train/eval handling."""

    def __init__(self, num_classes: int = 3, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 8 * 8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.tanh(self.bn(self.conv(x))))
        return self.fc(x.flatten(1))


@pytest.fixture
def tiny_net() -> TinyConvNet:
    return TinyConvNet()

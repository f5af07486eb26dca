"""``resnet4b``: the small bias-only ResNet of the alpha-beta-CROWN zoo.

Source of the architecture and the vendored weights: the alpha-beta-CROWN
model zoo (BSD-3-Clause, ``checkpoints/LICENSE.alpha-beta-crown``). Parameter
names mirror its checkpoints (``conv1``, ``layer{1,2}.{0,1}.conv{1,2}``,
``layer{1,2}.0.shortcut.0``, ``linear1``, ``linear2``), so
``init_cfg=dict(type='Pretrained', checkpoint=...)`` loads them strictly.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import nn

from ...checkpoint import init_weights_checked


class ResNet4bBlock(nn.Module):
    """``relu(conv2(relu(conv1(x))) + shortcut(x))``, convs with bias."""

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(x)))
        return F.relu(out + self.shortcut(x))


@MODELS.register_module()
class ResNet4b(BaseBackbone):
    """resnet4b for 3×32×32 inputs, classifier layers included.

    conv1 (3→16, stride 2) → layer1 (2 blocks, 16→32, stride 2) → layer2
    (2 blocks, 32→32, stride 2) → flatten (512) → linear1 (512→100) → ReLU →
    linear2 (100→``num_classes``). No normalisation layers. The backbone
    returns the logits as a one-tuple; pair it with the parameter-free
    ``ClsHead``.

    Args:
        num_classes (int): Outputs of ``linear2``. Defaults to 10.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=...)`` loads a checkpoint with the keys above,
            strictly (missing, unexpected or mis-shaped keys raise).

    Example:
        >>> backbone=dict(type='ResNet4b', init_cfg=dict(
        ...     type='Pretrained',
        ...     checkpoint='checkpoints/abcrown_resnet4b_linf2.pth'))
    """

    def __init__(self, num_classes: int = 10, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1)
        self.layer1 = nn.Sequential(
            ResNet4bBlock(16, 32, 2), ResNet4bBlock(32, 32, 1))
        self.layer2 = nn.Sequential(
            ResNet4bBlock(32, 32, 2), ResNet4bBlock(32, 32, 1))
        self.linear1 = nn.Linear(512, 100)
        self.linear2 = nn.Linear(100, num_classes)

    def init_weights(self) -> None:
        if not init_weights_checked(self, 'ResNet4b'):
            super().init_weights()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        if x.shape[-2:] != (32, 32):
            raise ValueError(
                f'ResNet4b takes 32×32 inputs, got {tuple(x.shape[-2:])}; '
                'its linear1 expects 32·4·4 = 512 features')
        out = self.layer2(self.layer1(F.relu(self.conv1(x))))
        out = F.relu(self.linear1(out.flatten(1)))
        return (self.linear2(out), )

"""CIFAR ResNet-20/32/44/56/110 (He et al. 2016, section 4.2).

Architecture and the vendored weights follow akamaster/pytorch_resnet_cifar10
(BSD-2-Clause, ``checkpoints/LICENSE.akamaster``): 3×3 stem, three stages of
16/32/64 channels, option-A (parameter-free) shortcuts. Parameter names
mirror those checkpoints (``conv1``, ``bn1``,
``layer{1,2,3}.i.{conv,bn}{1,2}``, ``linear``; the ``module.`` prefix of
the files is stripped on load).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import nn

from ...checkpoint import init_weights_checked


class CifarBasicBlock(nn.Module):
    """conv-bn-relu-conv-bn plus an option-A shortcut, then ReLU.

    When downsampling, the shortcut takes ``x[:, :, ::2, ::2]`` and zero-pads
    ``out_channels // 4`` channels on each side.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = stride != 1 or in_channels != out_channels
        self.pad = out_channels // 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.downsample:
            shortcut = F.pad(x[:, :, ::2, ::2],
                             (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


@MODELS.register_module()
class CifarResNet(BaseBackbone):
    """ResNet-(6n+2) for CIFAR, classifier included.

    The backbone returns the logits as a one-tuple (global average pooling →
    ``linear``); pair it with the parameter-free ``ClsHead``.

    Args:
        depth (int): 6n + 2 (20, 32, 44, 56, 110). Defaults to 20.
        num_classes (int): Outputs of ``linear``. Defaults to 10.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=...)`` loads an akamaster checkpoint strictly.

    Example:
        >>> backbone=dict(type='CifarResNet', depth=20, init_cfg=dict(
        ...     type='Pretrained',
        ...     checkpoint='checkpoints/akamaster_resnet20.th'))
    """

    def __init__(self,
                 depth: int = 20,
                 num_classes: int = 10,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f'CifarResNet: depth must be 6n + 2 (20, 32, 44, 56, 110), '
                f'got {depth}')
        blocks = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, 16, blocks, 1)
        self.layer2 = self._make_layer(16, 32, blocks, 2)
        self.layer3 = self._make_layer(32, 64, blocks, 2)
        self.linear = nn.Linear(64, num_classes)

    @staticmethod
    def _make_layer(in_channels: int, out_channels: int, blocks: int,
                    stride: int) -> nn.Sequential:
        layers = [CifarBasicBlock(in_channels, out_channels, stride)]
        layers += [
            CifarBasicBlock(out_channels, out_channels, 1)
            for _ in range(blocks - 1)
        ]
        return nn.Sequential(*layers)

    def init_weights(self) -> None:
        if init_weights_checked(self, f'CifarResNet(depth={self.depth})'):
            return
        super().init_weights()
        if self.init_cfg is None:  # He init, as the reference code does
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return (self.linear(out), )

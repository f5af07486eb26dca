"""CIFAR backbones whose parameter names equal third-party checkpoints'
keys (strict loading), returning logits for ``ClsHead``."""
from .cifar_resnet import CifarResNet
from .resnet4b import ResNet4b

__all__ = ['CifarResNet', 'ResNet4b']

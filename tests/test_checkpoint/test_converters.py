"""The robustness-library converter gives torchvision's outputs exactly."""
import torch
import torchvision
from mmpretrain.registry import MODELS

from kdiga_mmrazor.checkpoint import (
    convert_robustness_resnet,
    load_state_dict_checked,
)


def test_converted_resnet_matches_torchvision(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None).eval()
    weights = reference.state_dict()
    model_keys = {f'module.model.{k}': v for k, v in weights.items()}
    attacker_keys = {
        f'module.attacker.model.{k}': torch.zeros_like(v)
        for k, v in weights.items()
    }
    robustness = dict(
        model={
            **model_keys,
            **attacker_keys, 'module.normalizer.new_mean': torch.zeros(3, 1, 1)
        },
        epoch=90)
    converted = convert_robustness_resnet(robustness)
    path = tmp_path / 'converted.pth'
    torch.save({'state_dict': converted}, path)
    model = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=1000,
                       in_channels=512))).eval()
    load_state_dict_checked(model, str(path), who='test')
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(model(x, mode='tensor'), reference(x))

"""ResNet4b: parameter count, output, resolution check, the vendored
alpha-beta-CROWN checkpoint."""
import pytest
import torch
from mmpretrain.registry import MODELS

from ...conftest import TEACHER_CKPT
from .conftest import assert_vendored_checkpoint_loads


def test_resnet4b_parameter_count_and_output():
    net = MODELS.build(dict(type='ResNet4b'))
    conv = 3 * 3  # kernel area; every layer has a bias
    expected = (3 * 16 * conv + 16  # conv1
                + 16 * 32 * conv + 32 + 32 * 32 * conv + 32  # layer1.0
                + 16 * 32 + 32  # layer1.0.shortcut
                + 2 * (32 * 32 * conv + 32) * 3  # layer1.1, layer2.{0,1}
                + 32 * 32 + 32  # layer2.0.shortcut
                + 512 * 100 + 100 + 100 * 10 + 10)  # linear1, linear2
    assert expected == 123_734  # the weights' README: "124k"
    assert sum(p.numel() for p in net.parameters()) == expected
    (logits, ) = net(torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 10)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


def test_resnet4b_rejects_other_resolutions_with_a_clear_error():
    with pytest.raises(ValueError, match='32×32'):
        MODELS.build(dict(type='ResNet4b'))(torch.rand(1, 3, 64, 64))


def test_vendored_checkpoint_loads_strictly():
    assert_vendored_checkpoint_loads(dict(type='ResNet4b'), TEACHER_CKPT)

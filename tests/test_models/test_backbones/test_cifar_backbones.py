"""ResNet4b and CifarResNet: shapes, key layouts, real checkpoints."""
import pytest
import torch
from mmpretrain.registry import MODELS

from ...conftest import RESNET20_CKPT, TEACHER_CKPT


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


@pytest.mark.parametrize('depth, params', [(20, 269_722), (56, 853_018)])
def test_cifar_resnet_depths_match_he_et_al(depth, params):
    net = MODELS.build(dict(type='CifarResNet', depth=depth))
    assert sum(p.numel() for p in net.parameters()) == params
    (logits, ) = net(torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 10)


def test_cifar_resnet_rejects_invalid_depth():
    with pytest.raises(ValueError, match='6n \\+ 2'):
        MODELS.build(dict(type='CifarResNet', depth=21))


def test_option_a_shortcut_pads_channels_symmetrically():
    from kdiga_mmrazor.models.backbones.cifar_resnet import CifarBasicBlock
    block = CifarBasicBlock(16, 32, 2).eval()
    for p in block.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(1, 16, 8, 8)
    out = block(x)
    # residual branch is 0 (BN of zeros with zero weight/bias), so out is
    # relu(shortcut) = zero-padded subsample of x on 8 channels each side
    torch.testing.assert_close(out[:, 8:24], x[:, :, ::2, ::2])
    assert out[:, :8].abs().sum() == 0 and out[:, 24:].abs().sum() == 0


@pytest.mark.parametrize('backbone, ckpt', [
    (dict(type='ResNet4b'), TEACHER_CKPT),
    (dict(type='CifarResNet', depth=20), RESNET20_CKPT),
])
def test_vendored_checkpoints_load_strictly(backbone, ckpt):
    net = MODELS.build(
        dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=ckpt)))
    net.init_weights()
    raw = torch.load(ckpt, map_location='cpu', weights_only=True)
    first = next(iter(raw['state_dict']))
    name = first[len('module.'):] if first.startswith('module.') else first
    torch.testing.assert_close(net.state_dict()[name],
                               raw['state_dict'][first])


def test_wrong_checkpoint_for_architecture_fails_at_init():
    net = MODELS.build(
        dict(type='CifarResNet', depth=20,
             init_cfg=dict(type='Pretrained', checkpoint=TEACHER_CKPT)))
    with pytest.raises(KeyError, match='CifarResNet\\(depth=20\\): init_cfg'):
        net.init_weights()

"""CifarResNet: depths, option-A shortcut, the vendored ResNet-20
checkpoint, a wrong checkpoint."""
import pytest
import torch
from mmpretrain.registry import MODELS

from ...conftest import RESNET20_CKPT, TEACHER_CKPT
from .conftest import assert_vendored_checkpoint_loads


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


def test_vendored_checkpoint_loads_strictly():
    assert_vendored_checkpoint_loads(
        dict(type='CifarResNet', depth=20), RESNET20_CKPT)


def test_wrong_checkpoint_for_architecture_fails_at_init():
    net = MODELS.build(
        dict(type='CifarResNet', depth=20,
             init_cfg=dict(type='Pretrained', checkpoint=TEACHER_CKPT)))
    with pytest.raises(KeyError, match='CifarResNet\\(depth=20\\): init_cfg'):
        net.init_weights()

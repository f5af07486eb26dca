"""The MMPretrain ResNet a torchvision-named state dict fills: depth from
the blocks, widths and classes from the shapes."""
import pytest
import torch
import torchvision

from kdiga_mmrazor.checkpoint.converters.resnet_arch import (
    ARCH_SETTINGS,
    ResNetArch,
    block_type,
    expected_shapes,
    infer_resnet_arch,
    stage_blocks,
)


def meta_state_dict(name: str, **kwargs) -> dict:
    """A torchvision model's state dict, shapes only (no memory)."""
    with torch.device('meta'):
        return getattr(torchvision.models, name)(weights=None,
                                                 **kwargs).state_dict()


@pytest.mark.parametrize('depth', sorted(ARCH_SETTINGS))
def test_depth_is_read_from_the_blocks(depth):
    body = meta_state_dict(f'resnet{depth}')
    arch = infer_resnet_arch(body)
    assert arch == ResNetArch(depth=depth)
    assert stage_blocks(body) == ARCH_SETTINGS[depth][1]
    # the MMPretrain model holds exactly torchvision's tensors
    expected = expected_shapes(arch)
    assert len(expected) == len(body)
    assert expected['head.fc.weight'] == body['fc.weight'].shape


def test_widths_and_classes_are_read_from_the_shapes():
    body = meta_state_dict('wide_resnet101_2', num_classes=10)
    arch = infer_resnet_arch(body)
    assert arch == ResNetArch(depth=101, num_classes=10, base_channels=128,
                              expansion=2)
    assert arch.feat_channels == 2048
    assert arch.backbone_cfg() == dict(type='ResNet', depth=101,
                                       base_channels=128, expansion=2)
    assert expected_shapes(arch)['head.fc.weight'] == (10, 2048)


def test_smallest_depth_holding_the_blocks_found():
    body = {k: v for k, v in meta_state_dict('resnet34').items()
            if not k.startswith(('layer3.5.', 'layer3.4.'))}
    assert stage_blocks(body) == (3, 4, 4, 3)
    assert infer_resnet_arch(body).depth == 34
    assert block_type(body) == 'BasicBlock'


def test_too_many_blocks_are_refused_with_the_counts():
    body = {f'layer1.{i}.conv1.weight': torch.zeros(64, 64, 3, 3)
            for i in range(5)}
    with pytest.raises(ValueError,
                       match=r'BasicBlocks with \(5, 0, 0, 0\) blocks'):
        infer_resnet_arch(body)


def test_explicit_depth_is_used_and_checked():
    body = meta_state_dict('resnet50')
    assert infer_resnet_arch(body, depth=152).depth == 152
    with pytest.raises(ValueError, match='depth=42 is not'):
        infer_resnet_arch(body, depth=42)


def test_model_cfg_is_mmpretrain_scoped():
    cfg = ResNetArch(depth=18, num_classes=7).model_cfg()
    assert cfg['_scope_'] == 'mmpretrain'
    assert cfg['head'] == dict(type='LinearClsHead', num_classes=7,
                               in_channels=512)
    assert cfg['neck'] == dict(type='GlobalAveragePooling')

"""Converted torchvision, timm, RobustBench and robustness ResNets give
the source model's logits in MMPretrain; partial files are refused with
the keys named."""
import pytest
import timm
import torch
import torchvision
from mmpretrain.registry import MODELS

from kdiga_mmrazor.checkpoint import (
    UnmatchedKeysError,
    convert_resnet,
    convert_robustbench_resnet,
    convert_robustness_resnet,
    convert_timm_resnet,
    convert_torchvision_resnet,
)
from kdiga_mmrazor.checkpoint.converters.layouts import NoResNetKeysError
from kdiga_mmrazor.checkpoint.converters.resnet import (
    checkpoint_tensors,
    mmpretrain_name,
)

from .conftest import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    OTHER_MEAN,
    OTHER_STD,
    max_abs_diff,
    mmpretrain_resnet,
    normalize_model,
    normalized,
    prefixed,
    robustness_checkpoint,
)

TOLERANCE = 1e-5


def strictly_loaded(state_dict: dict, info) -> torch.nn.Module:
    model = MODELS.build(info.model).eval()
    result = model.load_state_dict(state_dict, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    return model


# How RobustBench files store normalize_model(resnet, mean, std):
# (named Sequential?, prefix before it).
ROBUSTBENCH_STORAGE = [(True, ''), (True, 'module.'), (False, 'model.'),
                       (True, 'module.model.'), (False, 'module.')]


@pytest.mark.parametrize('named,prefix', ROBUSTBENCH_STORAGE)
def test_robustbench_resnet50_gives_the_same_logits(resnet50, image, named,
                                                    prefix):
    wrapper = normalize_model(resnet50, OTHER_MEAN, OTHER_STD,
                              named=named).eval()
    stored = dict(state_dict=prefixed(wrapper.state_dict(), prefix))
    state_dict, info = convert_robustbench_resnet(stored)
    assert info.normalization == dict(mean=list(OTHER_MEAN),
                                      std=list(OTHER_STD))
    assert info.source_prefix == prefix + ('model.' if named else '1.')
    assert (info.unexpected, info.missing, info.shape_mismatches) == \
        ([], [], [])
    model = mmpretrain_resnet(50, 2048)
    model.load_state_dict(state_dict, strict=True)
    with torch.no_grad():
        reference = wrapper(image)
        logits = model(normalized(image, info.normalization), mode='tensor')
    assert reference.shape == (1, 1000)
    assert max_abs_diff(logits, reference) <= TOLERANCE


def test_robustness_resnet50_gives_the_same_logits(resnet50, image):
    checkpoint = robustness_checkpoint(resnet50)
    state_dict, info = convert_robustness_resnet(checkpoint)
    assert info.normalization == dict(mean=list(IMAGENET_MEAN),
                                      std=list(IMAGENET_STD))
    assert info.source_prefix == 'module.model.'
    n_resnet = len(resnet50.state_dict())
    assert len(state_dict) == n_resnet == 320
    # the attacker's copy of the 320 ResNet tensors and of the normaliser
    assert len(info.dropped) == n_resnet + 2
    assert all(k.startswith('module.attacker.') for k in info.dropped)
    model = mmpretrain_resnet(50, 2048)
    model.load_state_dict(state_dict, strict=True)
    with torch.no_grad():
        reference = resnet50(normalized(image, info.normalization))
        logits = model(normalized(image, info.normalization), mode='tensor')
    assert max_abs_diff(logits, reference) <= TOLERANCE


def test_robustness_resnet18_matches_its_wrapper(resnet18, image):
    from .conftest import AttackerModel
    wrapper = AttackerModel(resnet18, OTHER_MEAN, OTHER_STD).eval()
    checkpoint = robustness_checkpoint(resnet18, OTHER_MEAN, OTHER_STD)
    state_dict, info = convert_robustness_resnet(checkpoint)
    assert info.model['backbone'] == dict(type='ResNet', depth=18)
    assert info.model['head']['in_channels'] == 512
    model = strictly_loaded(state_dict, info)
    with torch.no_grad():
        logits = model(normalized(image, info.normalization), mode='tensor')
        assert max_abs_diff(logits, wrapper(image)) <= TOLERANCE


def test_timm_resnet50_round_trip(image):
    torch.manual_seed(3)
    source = timm.create_model('resnet50', pretrained=False).eval()
    state_dict, info = convert_timm_resnet(source.state_dict())
    assert info.model['backbone'] == dict(type='ResNet', depth=50)
    assert info.normalization is None
    model = strictly_loaded(state_dict, info)
    x = normalized(image, dict(mean=IMAGENET_MEAN, std=IMAGENET_STD))
    with torch.no_grad():
        assert max_abs_diff(model(x, mode='tensor'), source(x)) <= TOLERANCE


def test_torchvision_resnet18_basic_blocks_round_trip(resnet18, image):
    weights = prefixed(resnet18.state_dict(), 'module.')  # DDP
    state_dict, info = convert_torchvision_resnet(weights)
    assert info.source_prefix == 'module.'
    assert 'backbone.layer2.0.downsample.0.weight' in state_dict
    assert 'backbone.layer1.0.downsample.0.weight' not in state_dict
    model = mmpretrain_resnet(18, 512)
    model.load_state_dict(state_dict, strict=True)
    with torch.no_grad():
        assert max_abs_diff(model(image, mode='tensor'),
                            resnet18(image)) <= TOLERANCE


def test_wide_resnet_is_resnet50_with_wider_blocks(image):
    torch.manual_seed(4)
    source = torchvision.models.wide_resnet50_2(weights=None).eval()
    wrapper = normalize_model(source, IMAGENET_MEAN, IMAGENET_STD).eval()
    state_dict, info = convert_robustbench_resnet(wrapper.state_dict())
    assert info.model['backbone'] == dict(
        type='ResNet', depth=50, base_channels=128, expansion=2)
    model = strictly_loaded(state_dict, info)
    with torch.no_grad():
        logits = model(normalized(image, info.normalization), mode='tensor')
        assert max_abs_diff(logits, wrapper(image)) <= TOLERANCE


def test_keys_are_renamed_as_mmpretrain_names_them(resnet50):
    state_dict, _ = convert_torchvision_resnet(resnet50.state_dict())
    source = resnet50.state_dict()
    assert list(state_dict)[:2] == ['backbone.conv1.weight',
                                    'backbone.bn1.weight']
    assert torch.equal(state_dict['head.fc.weight'], source['fc.weight'])
    assert torch.equal(state_dict['backbone.layer3.0.downsample.1.bias'],
                       source['layer3.0.downsample.1.bias'])
    assert mmpretrain_name('fc.bias') == 'head.fc.bias'
    assert mmpretrain_name('layer1.0.conv1.weight') == \
        'backbone.layer1.0.conv1.weight'


def test_partial_state_dict_is_refused_with_both_sides_named(resnet50):
    weights = dict(resnet50.state_dict())
    del weights['layer4.2.conv3.weight']
    weights['layer1.0.model.extra'] = torch.zeros(2)
    with pytest.raises(UnmatchedKeysError) as refused:
        convert_torchvision_resnet(weights)
    message = str(refused.value)
    assert "1 checkpoint keys not used: ['layer1.0.model.extra']" in message
    assert "1 MMPretrain keys not filled: ['backbone.layer4.2.conv3.weight']"\
        in message
    assert '--allow-partial' in message and '319 matching' in message
    assert refused.value.info.unexpected == ['layer1.0.model.extra']
    state_dict, info = convert_torchvision_resnet(weights,
                                                  allow_partial=True)
    assert len(state_dict) == 319 and not info.complete
    assert info.missing == ['backbone.layer4.2.conv3.weight']


def test_shape_mismatch_is_refused_and_not_counted_missing(resnet18):
    weights = dict(resnet18.state_dict())
    weights['layer1.1.conv2.weight'] = torch.zeros(64, 64, 1, 1)
    with pytest.raises(UnmatchedKeysError, match='1 shape mismatches'):
        convert_torchvision_resnet(weights)
    _, info = convert_torchvision_resnet(weights, allow_partial=True)
    assert info.shape_mismatches == [
        'layer1.1.conv2.weight -> backbone.layer1.1.conv2.weight: '
        'checkpoint (64, 64, 1, 1) vs model (64, 64, 3, 3)']
    assert info.missing == [] and info.unexpected == []


def test_missing_stage_blocks_name_the_missing_keys(resnet50):
    weights = {k: v for k, v in resnet50.state_dict().items()
               if not k.startswith('layer4.2.')}
    with pytest.raises(UnmatchedKeysError) as refused:
        convert_torchvision_resnet(weights)
    assert refused.value.info.model['backbone']['depth'] == 50
    assert len(refused.value.info.missing) == 18  # 3 convs + 3 BNs × 5
    assert 'backbone.layer4.2.conv1.weight' in str(refused.value)


def test_explicit_depth_names_what_that_depth_lacks(resnet50):
    with pytest.raises(UnmatchedKeysError) as refused:
        convert_torchvision_resnet(resnet50.state_dict(), depth=101)
    missing = refused.value.info.missing
    assert missing[0] == 'backbone.layer3.6.conv1.weight'
    assert len(missing) == 17 * 18  # blocks 6..22 of layer3, 18 tensors each


def test_model_dot_inside_a_key_is_never_stripped(resnet18):
    wrapper = normalize_model(resnet18, IMAGENET_MEAN, IMAGENET_STD)
    weights = prefixed(wrapper.state_dict(), 'module.')
    weights['module.model.layer1.0.model.conv1.weight'] = torch.zeros(1)
    weights['xmodel.conv1.weight'] = torch.zeros(1)
    _, info = convert_robustbench_resnet(weights, allow_partial=True)
    assert sorted(info.unexpected) == [
        'module.model.layer1.0.model.conv1.weight', 'xmodel.conv1.weight']
    assert info.missing == [] and info.shape_mismatches == []


def test_wrong_layout_is_refused_naming_the_fitting_one(resnet18):
    checkpoint = robustness_checkpoint(resnet18)
    with pytest.raises(NoResNetKeysError) as refused:
        convert_torchvision_resnet(checkpoint)
    assert "'robustness' layout" in str(refused.value)
    assert "module.model.conv1.weight" in str(refused.value)
    # RobustBench's pattern finds module.model.*, the attacker is left over
    with pytest.raises(UnmatchedKeysError) as refused:
        convert_robustbench_resnet(checkpoint)
    # both normalisers and the attacker's copy of the 122 ResNet tensors
    assert len(refused.value.info.unexpected) == 2 + 2 + 122
    assert "pass layout='robustness'" in str(refused.value)


def test_missing_batch_counters_are_filled_with_zero(resnet18):
    weights = {k: v for k, v in resnet18.state_dict().items()
               if not k.endswith('num_batches_tracked')}
    state_dict, info = convert_torchvision_resnet(weights)
    assert info.complete and len(info.filled) == 20
    assert int(state_dict['backbone.bn1.num_batches_tracked']) == 0
    strictly_loaded(state_dict, info)


def test_no_normaliser_in_a_robustbench_file_is_noted(resnet18):
    _, info = convert_robustbench_resnet(
        dict(state_dict=prefixed(resnet18.state_dict(), 'module.')))
    assert info.normalization is None and info.data_preprocessor() is None
    assert any('ImageNet' in note for note in info.notes)


def test_data_preprocessor_applies_the_normalisation(resnet18, image):
    wrapper = normalize_model(resnet18, OTHER_MEAN, OTHER_STD)
    _, info = convert_robustbench_resnet(wrapper.state_dict())
    preprocessor = info.data_preprocessor()
    assert preprocessor['mean'] == [127.5, 102.0, 76.5]
    assert preprocessor['std'] == [51.0, 63.75, 76.5]
    assert preprocessor['to_rgb'] is True
    built = MODELS.build(preprocessor)
    bgr = (image[0].flip(0) * 255)
    inputs = built(dict(inputs=[bgr]))['inputs']
    assert max_abs_diff(inputs, normalized(image, info.normalization)) \
        <= TOLERANCE


def test_meta_is_plain_and_records_partial():
    torch.manual_seed(5)
    weights = torchvision.models.resnet18(weights=None).state_dict()
    _, info = convert_resnet(weights, 'torchvision')
    meta = info.to_meta()
    assert meta['partial'] is False and meta['layout'] == 'torchvision'
    assert meta['model']['head'] == dict(
        type='LinearClsHead', num_classes=1000, in_channels=512)


def test_checkpoint_tensors_finds_the_weights():
    tensor = torch.ones(1)
    assert checkpoint_tensors({'model': {'a': tensor}, 'epoch': 3}) == \
        {'a': tensor}
    assert checkpoint_tensors({'a': tensor, 'epoch': 3}) == {'a': tensor}
    with pytest.raises(TypeError, match='must be a dict, got list'):
        checkpoint_tensors([tensor])


def test_unknown_layout_is_refused(resnet18):
    with pytest.raises(ValueError, match="unknown checkpoint layout 'keras'"):
        convert_resnet(resnet18.state_dict(), 'keras')

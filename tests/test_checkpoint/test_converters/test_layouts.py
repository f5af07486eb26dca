"""Layouts find the ResNet behind prefixes at the start of keys only, its
normaliser, and the robustness library's duplicate copy."""
import re

import pytest
import torch

from kdiga_mmrazor.checkpoint.converters.layouts import (
    LAYOUTS,
    NoResNetKeysError,
    layout_named,
    resnet_prefix,
    split_layout,
)

from .conftest import (
    OTHER_MEAN,
    OTHER_STD,
    normalize_model,
    prefixed,
    robustness_checkpoint,
)


def pattern(layout: str) -> re.Pattern:
    return re.compile(LAYOUTS[layout].prefixes)


def test_the_four_layouts():
    assert list(LAYOUTS) == ['torchvision', 'timm', 'robustbench',
                             'robustness']
    assert LAYOUTS['timm'].prefixes == LAYOUTS['torchvision'].prefixes


@pytest.mark.parametrize('key,layout,prefix', [
    ('conv1.weight', 'torchvision', ''),
    ('module.layer1.0.conv1.weight', 'torchvision', 'module.'),
    ('layer1.0.model.conv1.weight', 'torchvision', ''),
    ('model.conv1.weight', 'torchvision', None),
    ('model.1.layer1.0.conv1.weight', 'robustbench', 'model.1.'),
    ('module.model.model.fc.bias', 'robustbench', 'module.model.model.'),
    ('xmodel.conv1.weight', 'robustbench', None),
    ('model.normalize.mean', 'robustbench', None),
    ('module.model.bn1.weight', 'robustness', 'module.model.'),
    ('model.bn1.weight', 'robustness', 'model.'),
    ('module.attacker.model.bn1.weight', 'robustness', None),
])
def test_prefix_is_the_whole_text_before_the_resnet(key, layout, prefix):
    assert resnet_prefix(key, pattern(layout)) == prefix


def test_robustbench_split_reads_the_normaliser(resnet18):
    wrapper = normalize_model(resnet18, OTHER_MEAN, OTHER_STD, named=False)
    split = split_layout(prefixed(wrapper.state_dict(), 'model.'),
                         'robustbench')
    assert split.prefix == 'model.1.'
    assert split.normaliser_keys == ['model.0.mean', 'model.0.std']
    assert split.normalization == dict(mean=[0.5, 0.4, 0.3],
                                       std=[0.2, 0.25, 0.3])
    assert len(split.body) == len(resnet18.state_dict()) == 122
    assert split.sources['conv1.weight'] == 'model.1.conv1.weight'
    assert split.unexpected == [] and split.dropped == []


def test_robustness_split_drops_the_attacker(resnet18):
    weights = robustness_checkpoint(resnet18)['model']
    split = split_layout(weights, 'robustness')
    assert split.prefix == 'module.model.'
    assert split.normaliser_keys == ['module.normalizer.new_mean',
                                     'module.normalizer.new_std']
    assert len(split.dropped) == 122 + 2
    assert split.unexpected == []


def test_half_a_normaliser_is_left_over(resnet18):
    weights = prefixed(resnet18.state_dict(), 'model.')
    weights['normalize.mean'] = torch.zeros(1, 3, 1, 1)
    split = split_layout(weights, 'robustbench')
    assert split.normalization is None
    assert split.unexpected == ['normalize.mean']


def test_two_equal_copies_are_ambiguous(resnet18):
    weights = {**prefixed(resnet18.state_dict(), 'model.'),
               **prefixed(resnet18.state_dict(), 'module.')}
    with pytest.raises(NoResNetKeysError,
                       match="as many ResNet keys under 'model.' as under "
                       "'module.'"):
        split_layout(weights, 'robustbench')


def test_no_resnet_keys_names_the_first_keys():
    with pytest.raises(NoResNetKeysError, match=r"first keys: \['net.w'\]"):
        split_layout({'net.w': torch.zeros(1)}, 'torchvision')


def test_unknown_layout():
    with pytest.raises(ValueError, match="choose one of"):
        layout_named('caffe')

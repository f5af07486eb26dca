"""Pixel space: normalisation in [0, 1] units, classifiers as x ↦ logits,
pixels of a dataloader batch."""
import pytest
import torch
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmrazor.registry import MODELS

from kdiga_mmrazor.utils import (
    PixelNormalize,
    PixelSpaceClassifier,
    as_pixel_classifier,
    check_pixel_range,
    pixels_from_batch,
)

from ..conftest import data_samples, kdiga_model, toy_classifier

MEAN, STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]


def test_normalize_divides_the_0_255_statistics_by_255():
    x = torch.rand(2, 3, 4, 4)
    got = PixelNormalize(MEAN, STD)(x)
    mean = torch.tensor(MEAN).view(3, 1, 1) / 255
    std = torch.tensor(STD).view(3, 1, 1) / 255
    torch.testing.assert_close(got, (x - mean) / std)


def test_normalize_without_statistics_is_the_identity():
    x = torch.rand(2, 3, 4, 4)
    assert PixelNormalize()(x) is x
    with pytest.raises(ValueError, match='give both mean and std'):
        PixelNormalize(mean=MEAN)


def test_normalize_prints_its_statistics_in_the_0_255_scale():
    assert repr(PixelNormalize(MEAN, STD)) == (
        'PixelNormalize(mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7] '
        '(0-255 scale))')
    assert repr(PixelNormalize()) == 'PixelNormalize(identity)'


def test_printing_a_built_algorithm_shows_each_models_normalisation():
    model = MODELS.build(
        kdiga_model(toy_classifier(MEAN, STD), toy_classifier([0.] * 3,
                                                              [255.] * 3)))
    text = str(model.pixel_classifier('student'))
    assert 'mean=[125.3, 123.0, 113.9]' in text
    assert 'mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]' in str(
        model.pixel_classifier('teacher'))


def test_classifier_normalises_then_returns_the_logits():
    net = MMPRETRAIN_MODELS.build(toy_classifier())
    x = torch.rand(2, 3, 8, 8)
    wrapped = PixelSpaceClassifier(net, PixelNormalize(MEAN, STD))
    want = net(PixelNormalize(MEAN, STD)(x), mode='tensor')
    torch.testing.assert_close(wrapped(x), want)


def test_classifier_resizes_inside_the_model():
    net = MMPRETRAIN_MODELS.build(toy_classifier(in_features=3 * 16 * 16))
    wrapped = PixelSpaceClassifier(net, PixelNormalize(), (16, 16))
    x = torch.rand(2, 3, 8, 8)
    up = torch.nn.functional.interpolate(
        x, size=(16, 16), mode='bilinear', align_corners=False)
    torch.testing.assert_close(wrapped(x), net(up, mode='tensor'))


def test_a_plain_classifier_uses_its_own_preprocessor():
    net = MMPRETRAIN_MODELS.build(toy_classifier(MEAN, STD))
    pixel = as_pixel_classifier(net)
    x = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(
        pixel(x), net(PixelNormalize(MEAN, STD)(x), mode='tensor'))
    with pytest.raises(ValueError, match='has no teacher'):
        as_pixel_classifier(net, 'teacher')
    with pytest.raises(ValueError, match="'student' or 'teacher'"):
        as_pixel_classifier(net, 'ta')


def test_pixels_of_a_batch_skip_the_normalisation_and_scale_to_0_1():
    net = MMPRETRAIN_MODELS.build(toy_classifier(MEAN, STD))
    images = [torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
              for _ in range(2)]
    x, samples = pixels_from_batch(
        net, dict(inputs=images, data_samples=data_samples([0, 1])))
    torch.testing.assert_close(x, torch.stack(images).float() / 255)
    assert [int(s.gt_label) for s in samples] == [0, 1]
    assert net.data_preprocessor._enable_normalize  # restored


@pytest.mark.parametrize('low, high, refused', [
    (0.0, 1.0, False), (-5e-4, 1 + 5e-4, False),  # rounding slack
    (0.0, 1.002, True), (-0.002, 1.0, True), (-2.1, 2.6, True),
    (0.0, 255.0, True)])
def test_pixel_range_allows_rounding_slack_only(low, high, refused):
    x = torch.tensor([low, 0.5, high]).view(1, 3, 1, 1)
    if not refused:
        check_pixel_range('Algo', x)
        return
    with pytest.raises(ValueError, match=(
            r'^Algo: inputs span \[.*\], not \[0, 1\] pixels; '
            r'model.data_preprocessor must be mean=\[0, 0, 0\], '
            r'std=\[255, 255, 255\]')):
        check_pixel_range('Algo', x)

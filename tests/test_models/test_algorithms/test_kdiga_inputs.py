"""What each model of a KDIGA step sees: the scale-only split of a
normalising preprocessor, channel conversion flags, the first-step
input-gradient check."""
import logging

import pytest
import torch

from kdiga_mmrazor.models.algorithms.kdiga_inputs import (
    check_first_input_gradients,
    split_data_preprocessor,
    states_preprocessor,
    to_rgb_of,
)

MEAN, STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]


def test_a_normalising_preprocessor_splits_into_scale_only_and_its_stats():
    cfg, shared = split_data_preprocessor(
        dict(type='ClsDataPreprocessor', num_classes=10, mean=MEAN, std=STD,
             to_rgb=True))
    assert cfg == dict(type='ClsDataPreprocessor', num_classes=10,
                       mean=[0.0] * 3, std=[255.0] * 3, to_rgb=True)
    torch.testing.assert_close(shared.mean.flatten(),
                               torch.tensor(MEAN) / 255)


def test_a_scale_only_or_missing_preprocessor_lends_nothing():
    assert split_data_preprocessor(
        dict(mean=[0, 0, 0], std=[255, 255, 255]))[1] is None
    cfg, shared = split_data_preprocessor(None)
    assert shared is None and cfg['type'] == 'mmpretrain.ClsDataPreprocessor'
    assert cfg['std'] == [255.0] * 3


def test_channel_conversion_flags_of_configs():
    assert to_rgb_of(dict(to_rgb=True)) and to_rgb_of(dict(bgr_to_rgb=True))
    assert not to_rgb_of(dict(mean=MEAN)) and not to_rgb_of(None)


def test_a_model_dict_states_its_preprocessor_or_not():
    assert states_preprocessor(dict(data_preprocessor=dict()))
    assert not states_preprocessor(dict(type='ImageClassifier'))
    assert states_preprocessor(torch.nn.Linear(1, 1))  # built: its own


def test_zero_teacher_gradients_and_non_finite_ones_stop(mmengine_log):
    ok = torch.ones(2, 3)
    check_first_input_gradients(dict(teacher=ok, student=ok))
    with pytest.raises(RuntimeError, match="teacher's input gradient.*"
                       'exactly 0'):
        check_first_input_gradients(dict(teacher=0 * ok, student=ok))
    with pytest.raises(RuntimeError, match="student's.*not finite"):
        check_first_input_gradients(
            dict(teacher=ok, student=ok * float('inf')))
    check_first_input_gradients(dict(teacher=ok, student=0 * ok))
    assert len(mmengine_log.view(logging.WARNING, 'exactly 0')) == 1

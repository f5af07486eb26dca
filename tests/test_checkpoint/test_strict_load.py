"""Strict key/shape checking of third-party weights."""
import pytest
import torch
from mmpretrain.registry import MODELS

from kdiga_mmrazor.checkpoint import load_state_dict_checked


def _save(tmp_path, state_dict, name='w.pth', wrap='state_dict'):
    path = tmp_path / name
    torch.save({wrap: state_dict} if wrap else state_dict, path)
    return str(path)


def test_module_prefix_is_stripped_and_weights_arrive(tmp_path):
    source = MODELS.build(dict(type='ResNet4b'))
    path = _save(tmp_path,
                 {f'module.{k}': v for k, v in source.state_dict().items()})
    target = MODELS.build(dict(type='ResNet4b'))
    sha = load_state_dict_checked(target, path, who='test')
    assert len(sha) == 64
    torch.testing.assert_close(target.linear2.weight, source.linear2.weight)


def test_bare_backbone_checkpoint_loads_into_classifier_with_prefix(
        tmp_path):
    backbone = MODELS.build(dict(type='ResNet4b'))
    path = _save(tmp_path, backbone.state_dict(), wrap=None)
    classifier = MODELS.build(
        dict(type='ImageClassifier', backbone=dict(type='ResNet4b'),
             head=dict(type='ClsHead')))
    load_state_dict_checked(
        classifier, path, who='test', prefixes=('', 'backbone.'))
    torch.testing.assert_close(classifier.backbone.conv1.bias,
                               backbone.conv1.bias)


def test_missing_and_unexpected_keys_are_named(tmp_path):
    weights = MODELS.build(dict(type='ResNet4b')).state_dict()
    weights.pop('linear2.bias')
    weights['extra.weight'] = torch.zeros(1)
    path = _save(tmp_path, weights)
    with pytest.raises(KeyError) as info:
        load_state_dict_checked(
            MODELS.build(dict(type='ResNet4b')), path, who='cfg.key')
    message = str(info.value)
    assert 'cfg.key' in message
    assert 'matches 25 of 26 ResNet4b keys' in message
    assert "1 missing, first ['linear2.bias']" in message
    assert "1 unexpected, first ['extra.weight']" in message


def test_shape_mismatch_is_refused(tmp_path):
    path = _save(tmp_path,
                 MODELS.build(dict(type='ResNet4b',
                                   num_classes=100)).state_dict())
    with pytest.raises(KeyError, match=r'shape mismatches.*linear2'):
        load_state_dict_checked(
            MODELS.build(dict(type='ResNet4b')), path, who='test')


def test_num_batches_tracked_may_be_absent(tmp_path):
    """Older checkpoints lack the BatchNorm counters: every other tensor
    still loads, the counters keep their own value."""
    torch.manual_seed(0)
    source = MODELS.build(dict(type='CifarResNet'))
    weights = {
        k: v + 1 if v.is_floating_point() else v
        for k, v in source.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    target = MODELS.build(dict(type='CifarResNet'))
    load_state_dict_checked(target, _save(tmp_path, weights), who='test')
    loaded = target.state_dict()
    for key, value in weights.items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)
    counters = [k for k in loaded if k.endswith('num_batches_tracked')]
    assert counters and all(int(loaded[k]) == 0 for k in counters)


def test_a_counter_of_another_shape_is_still_refused(tmp_path):
    """Optional means "may be missing", not "may be anything"."""
    weights = MODELS.build(dict(type='CifarResNet')).state_dict()
    counter = next(k for k in weights if k.endswith('num_batches_tracked'))
    weights[counter] = torch.zeros(2, dtype=torch.long)
    with pytest.raises(KeyError, match='shape mismatches'):
        load_state_dict_checked(
            MODELS.build(dict(type='CifarResNet')),
            _save(tmp_path, weights), who='test')


def test_a_missing_file_names_the_config_key_before_any_hashing(
        tmp_path, monkeypatch):
    from kdiga_mmrazor.checkpoint import strict_load

    def no_hashing(path):
        raise AssertionError('file_sha256 ran on a missing file')

    monkeypatch.setattr(strict_load, 'file_sha256', no_hashing)
    missing = str(tmp_path / 'teacher.pth')
    with pytest.raises(FileNotFoundError) as info:
        load_state_dict_checked(MODELS.build(dict(type='ResNet4b')), missing,
                                who='KDIGADistill: model.teacher_ckpt')
    assert str(info.value) == (
        f'KDIGADistill: model.teacher_ckpt: checkpoint {missing!r} does not '
        'exist; set KDIGADistill: model.teacher_ckpt to the path of a '
        'checkpoint file (torch.save or safetensors)')


def test_a_damaged_file_is_refused_naming_the_config_key(tmp_path):
    from kdiga_mmrazor.checkpoint import CorruptCheckpointError
    path = tmp_path / 'teacher.pth'
    torch.save(MODELS.build(dict(type='ResNet4b')).state_dict(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CorruptCheckpointError) as info:
        load_state_dict_checked(MODELS.build(dict(type='ResNet4b')),
                                str(path), who='cfg.model.teacher_ckpt')
    assert str(info.value).startswith(
        f'cfg.model.teacher_ckpt: checkpoint {str(path)!r} is a truncated '
        'or damaged zip archive')
    assert info.value.__context__ is None


def test_safetensors_and_pth_give_the_same_weights(tmp_path):
    from safetensors.torch import save_file
    torch.manual_seed(1)
    source = MODELS.build(dict(type='ResNet4b')).state_dict()
    pth = _save(tmp_path, source, wrap=None)
    st = str(tmp_path / 'w.safetensors')
    save_file(source, st)
    loaded = []
    for path in (pth, st):
        target = MODELS.build(dict(type='ResNet4b'))
        load_state_dict_checked(target, path, who='test')
        loaded.append(target.state_dict())
    for key, value in source.items():
        assert torch.equal(loaded[0][key], value)
        assert torch.equal(loaded[1][key], value)

"""A config that replaces a shipped config's teacher (or student) with
another type never keeps the old one's keys: the load names them."""
import pytest
from mmengine.config import Config

from kdiga_mmrazor.engine import load_config
from kdiga_mmrazor.engine.config_checks import leaked_keys

from ..conftest import REPO

SHIPPED = f'{REPO}/configs/kdiga_resnet4b_resnet20_cifar10.py'


def user_config(tmp_path, body):
    path = tmp_path / 'user.py'
    path.write_text(f'_base_ = [{SHIPPED!r}]\n' + body)
    return str(path)


def test_leaked_keys_of_a_replaced_backbone_or_model():
    base = dict(_scope_='mmpretrain', type='ImageClassifier',
                data_preprocessor=dict(mean=[1]), head=dict(type='ClsHead'),
                backbone=dict(type='ResNet4b', num_classes=10))
    assert leaked_keys(dict(backbone=dict(type='MyNet')), base) == [
        'data_preprocessor', 'head', 'backbone.num_classes']
    assert leaked_keys(dict(type='TimmClassifier'), base) == [
        'data_preprocessor', 'head', 'backbone']
    # editing the base's model, or replacing it whole, is fine
    assert leaked_keys(dict(backbone=dict(num_classes=100)), base) == []
    assert leaked_keys(dict(backbone=dict(type='ResNet4b')), base) == []
    assert leaked_keys(dict(type='mmpretrain.ImageClassifier'), base) == []
    assert leaked_keys(dict(_delete_=True, type='X'), base) == []
    assert leaked_keys(
        dict(backbone=dict(_delete_=True, type='MyNet'),
             data_preprocessor={}, head={}), base) == []
    # a whole new backbone still leaves the base's normalisation behind
    assert leaked_keys(dict(backbone=dict(_delete_=True, type='MyNet')),
                       base) == ['data_preprocessor', 'head']


def test_a_replaced_teacher_that_would_merge_is_refused(tmp_path):
    path = user_config(tmp_path, (
        "model = dict(teacher=dict(type='ImageClassifier', "
        "backbone=dict(type='MyNet'), head=dict(type='ClsHead')))\n"))
    with pytest.raises(ValueError) as error:
        load_config(path)
    message = str(error.value)
    assert "model.teacher replaces the base config's ResNet4b with MyNet" in (
        message)
    assert "['data_preprocessor', 'backbone.num_classes']" in message
    assert '_delete_=True' in message
    # the check is only active while loading
    assert Config.fromfile(path).model.teacher.backbone.num_classes == 10


def test_a_whole_replacement_or_an_edit_loads(tmp_path):
    replaced = load_config(user_config(tmp_path, (
        "model = dict(teacher=dict(_delete_=True, type='ImageClassifier', "
        "backbone=dict(type='MyNet'), head=dict(type='ClsHead')))\n")))
    assert replaced.model.teacher == dict(
        type='ImageClassifier', backbone=dict(type='MyNet'),
        head=dict(type='ClsHead'))
    edited = load_config(user_config(tmp_path, (
        'model = dict(teacher=dict(data_preprocessor=dict(mean=[0, 0, 0])))'
        '\n')))
    assert edited.model.teacher.data_preprocessor.mean == [0, 0, 0]
    assert edited.model.teacher.data_preprocessor.std[0] == 63.0105


def test_a_replaced_student_is_checked_too(tmp_path):
    with pytest.raises(ValueError, match=r'model\.architecture replaces the '
                       "base config's CifarResNet with MyNet"):
        load_config(user_config(tmp_path, (
            "model = dict(architecture=dict(backbone=dict(type='MyNet')))"
            '\n')))

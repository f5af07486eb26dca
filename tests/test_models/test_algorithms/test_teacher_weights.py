"""Every key that loads a teacher loads it strictly, and a later load that
changes it is refused (``teacher_weights``), for KDIGADistill and for
MMRazor's ``SingleTeacherDistill`` as registered by the plugin."""
import copy
import logging

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

from kdiga_mmrazor.checkpoint import file_sha256, state_dict_digest
from kdiga_mmrazor.models.algorithms.teacher_weights import (
    take_teacher_sources,
)

from ...conftest import REPO, TEACHER_CKPT, kdiga_model, toy_classifier


def linear_head_classifier(hidden=16):
    """A teacher whose head has weights of its own (backbone: features)."""
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        backbone=dict(type='ToyMLPBackbone', num_classes=hidden),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=hidden))


def kd_model(teacher, **kwargs):
    model = kdiga_model(toy_classifier(), teacher, **kwargs)
    return model


def build(teacher=None, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(kd_model(teacher or toy_classifier(), **kwargs))
    model.init_weights()
    return model


@pytest.fixture
def teacher_file(tmp_path):
    """A whole-classifier teacher checkpoint and its weights."""
    torch.manual_seed(5)
    source = MODELS.build(toy_classifier())
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': source.state_dict()}, path)
    return str(path), source.state_dict()


def test_pretrained_init_cfgs_are_taken_out_of_the_config():
    teacher = dict(linear_head_classifier(),
                   init_cfg=[dict(type='Kaiming'),
                             dict(type='Pretrained', checkpoint='t.pth')])
    teacher['backbone']['init_cfg'] = dict(
        type='Pretrained', checkpoint='b.pth', prefix='backbone')
    left, sources = take_teacher_sources(teacher, 'c.pth', 'Algo')
    assert left['init_cfg'] == [dict(type='Kaiming')]
    assert left['backbone']['init_cfg'] is None
    assert teacher['backbone']['init_cfg']['checkpoint'] == 'b.pth'  # copy
    # teacher_ckpt overwrites the whole teacher: the init_cfgs are dropped
    assert [(s.checkpoint, s.target, s.prefix, s.key) for s in sources] == [
        ('c.pth', '', '', 'Algo: model.teacher_ckpt')]
    _, sources = take_teacher_sources(teacher, None, 'Algo')
    assert [(s.checkpoint, s.target, s.prefix) for s in sources] == [
        ('b.pth', 'backbone', 'backbone.'), ('t.pth', '', '')]
    assert sources[0].key == 'Algo: model.teacher.backbone.init_cfg.checkpoint'


def test_a_teacher_init_cfg_loads_strictly_at_build(teacher_file):
    path, weights = teacher_file
    model = build(dict(toy_classifier(),
                       init_cfg=dict(type='Pretrained', checkpoint=path)))
    for key, value in weights.items():
        assert torch.equal(model.teacher.state_dict()[key], value), key
    assert model.teacher_digest == state_dict_digest(weights)
    with pytest.raises(KeyError, match=r'model\.teacher\.init_cfg\.'
                       r'checkpoint.*3 shape mismatches'):
        build(dict(toy_classifier(hidden=8),
                   init_cfg=dict(type='Pretrained', checkpoint=path)))


def test_a_backbone_init_cfg_with_prefix_loads_only_the_backbone(
        teacher_file):
    path, weights = teacher_file
    teacher = toy_classifier()
    teacher['backbone']['init_cfg'] = dict(
        type='Pretrained', checkpoint=path, prefix='backbone')
    model = build(teacher)
    assert torch.equal(model.teacher.backbone.fc1.weight,
                       weights['backbone.fc1.weight'])


def test_a_backbone_only_checkpoint_leaves_no_head_random(tmp_path):
    torch.manual_seed(1)
    source = MODELS.build(linear_head_classifier())
    path = tmp_path / 'backbone.pth'
    torch.save(source.backbone.state_dict(), path)
    teacher = linear_head_classifier()
    teacher['backbone']['init_cfg'] = dict(type='Pretrained',
                                           checkpoint=str(path))
    with pytest.raises(KeyError, match=r"head\.fc\.weight.*model\."
                       'teacher_ckpt'):
        build(teacher)


def test_without_any_teacher_checkpoint_a_warning_says_so(mmengine_log):
    warnings = mmengine_log.view(logging.WARNING,
                                 'no checkpoint loads the teacher')
    build()
    assert len(warnings) == 1 and 'model.teacher_ckpt' in warnings[0]


@pytest.mark.parametrize('algorithm', ['KDIGADistill', 'SingleTeacherDistill'])
def test_a_load_that_changes_the_teacher_is_refused(teacher_file, algorithm):
    path, weights = teacher_file
    if algorithm == 'KDIGADistill':
        model = build(teacher_ckpt=path)
    else:
        model = MODELS.build(dict(kd_config(), architecture=toy_classifier(),
                                  teacher=toy_classifier(), teacher_ckpt=path))
    state = copy.deepcopy(model.state_dict())
    model.load_state_dict(state)  # the same teacher: fine
    from mmengine.runner.checkpoint import load_state_dict
    load_state_dict(model, state)  # MMEngine's loader (resume, load_from)
    state['teacher.backbone.fc1.weight'][0, 0] += 1e4
    with pytest.raises(RuntimeError) as error:
        load_state_dict(model, state)
    now = state_dict_digest({k[len('teacher.'):]: v for k, v in state.items()
                             if k.startswith('teacher.')})
    assert model.teacher_digest in str(error.value)
    assert now in str(error.value)


def kd_config():
    """configs/_base_/distill/kd.py's ``kd_distill``."""
    return Config.fromfile(f'{REPO}/configs/_base_/distill/kd.py'
                           ).kd_distill.to_dict()


def test_mmrazor_teacher_ckpt_of_a_bare_backbone_loads_strictly():
    cfg = Config.fromfile(f'{REPO}/configs/kd_resnet4b_resnet20_cifar10.py')
    assert cfg.model.type == 'SingleTeacherDistill'
    model = MODELS.build(cfg.model)
    from kdiga_mmrazor.checkpoint import extract_state_dict, safe_torch_load
    weights = extract_state_dict(safe_torch_load(TEACHER_CKPT))
    for key, value in weights.items():
        assert torch.equal(model.teacher.backbone.state_dict()[key], value)
    assert model.teacher_sha256 == file_sha256(TEACHER_CKPT)
    wrong = copy.deepcopy(cfg.model)
    wrong.teacher.backbone = dict(type='ResNet', depth=18, num_stages=4,
                                  out_indices=(3, ))
    wrong.teacher.head = dict(type='LinearClsHead', num_classes=10,
                              in_channels=512)
    wrong.teacher._scope_ = 'mmpretrain'
    with pytest.raises(KeyError, match='SingleTeacherDistill: '
                       'model.teacher_ckpt'):
        MODELS.build(wrong)


def test_safetensors_load_through_every_key_with_the_pth_logits(tmp_path):
    """teacher_ckpt, student_ckpt, a teacher init_cfg and a student
    backbone init_cfg (MMEngine's own loader): the same weights as .pth
    and as .safetensors give the same logits."""
    from safetensors.torch import save_file
    torch.manual_seed(7)
    source = MODELS.build(toy_classifier())
    weights = source.state_dict()
    paths = {}
    for ext in ('pth', 'safetensors'):
        paths[ext] = str(tmp_path / f'w.{ext}')
        if ext == 'pth':
            torch.save({'state_dict': weights}, paths[ext])
        else:
            save_file({k: v.contiguous() for k, v in weights.items()},
                      paths[ext])
    backbone = {k[len('backbone.'):]: v for k, v in weights.items()}
    save_file(backbone, str(tmp_path / 'b.safetensors'))
    torch.save(backbone, tmp_path / 'b.pth')
    x = torch.rand(5, 3, 8, 8)
    with torch.no_grad():
        expected = source(x, mode='tensor')
    logits = {}
    for ext, path in paths.items():
        by_ckpt = build(teacher_ckpt=path, student_ckpt=path)
        teacher = toy_classifier()
        teacher['init_cfg'] = dict(type='Pretrained', checkpoint=path)
        student = toy_classifier()
        student['backbone']['init_cfg'] = dict(
            type='Pretrained', checkpoint=str(tmp_path / f'b.{ext}'))
        by_init = MODELS.build(kdiga_model(student, teacher))
        by_init.init_weights()
        with torch.no_grad():
            logits[ext] = [
                m.pixel_classifier(member)(x)
                for m in (by_ckpt, by_init)
                for member in ('student', 'teacher')
            ]
    for pth, safe in zip(logits['pth'], logits['safetensors']):
        assert torch.equal(pth, safe)
    # toy_classifier states no normalisation: pixel view = the model on x
    torch.testing.assert_close(logits['pth'][0], expected)


def test_a_teacher_whose_batchnorms_train_is_not_watched(teacher_file):
    path, _ = teacher_file
    model = MODELS.build(dict(kd_config(), architecture=toy_classifier(),
                              teacher=toy_classifier(), teacher_ckpt=path,
                              teacher_norm_eval=False))
    assert model.teacher_digest is None
    state = copy.deepcopy(model.state_dict())
    state['teacher.backbone.fc1.weight'][0, 0] += 1.0
    model.load_state_dict(state)  # a resume of such a run: accepted


def test_an_http_teacher_ckpt_is_downloaded_once_and_loaded_strictly(
        teacher_file, tmp_path, monkeypatch):
    import torch.hub
    path, weights = teacher_file
    downloads = []

    def download(url, target):
        downloads.append(url)
        import shutil
        shutil.copy(path, target)

    monkeypatch.setattr(torch.hub, 'download_url_to_file', download)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    url = 'https://download.example.org/teachers/t.pth?x=1'
    for _ in range(2):
        model = build(teacher_ckpt=url)
    assert downloads == [url]
    assert torch.equal(model.teacher.backbone.fc1.weight,
                       weights['backbone.fc1.weight'])
    with pytest.raises(ValueError, match=r"model\.teacher_ckpt: 's3://b/t"):
        build(teacher_ckpt='s3://b/t.pth')

"""MMRazor's SingleTeacherDistill as the plugin registers it: α one key,
finite loss weights, class counts checked, MMRazor's behaviour otherwise."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.registry import MODELS

from kdiga_mmrazor.models.algorithms import VerifiedSingleTeacherDistill

from ...conftest import REPO, data_samples, toy_classifier


def kd(**kwargs):
    cfg = Config.fromfile(f'{REPO}/configs/_base_/distill/kd.py'
                          ).kd_distill.to_dict()
    cfg.update(architecture=toy_classifier(), teacher=toy_classifier())
    cfg.update(kwargs)
    torch.manual_seed(0)
    return cfg


def batch():
    gen = torch.Generator().manual_seed(3)
    return torch.rand(4, 3, 8, 8, generator=gen), data_samples([0, 1, 2, 1])


def test_the_registered_name_is_mmrazors_and_builds_the_subclass():
    assert MODELS.get('SingleTeacherDistill') is VerifiedSingleTeacherDistill
    assert issubclass(VerifiedSingleTeacherDistill, SingleTeacherDistill)


@pytest.mark.parametrize('head_weight', [1.0, 0.3])
def test_alpha_scales_ce_to_one_minus_alpha_and_kl_to_alpha(head_weight):
    student = toy_classifier()
    student['head'] = dict(type='ClsHead', loss=dict(
        type='CrossEntropyLoss', loss_weight=head_weight))
    model = MODELS.build(kd(alpha=0.2, architecture=student))
    x, samples = batch()
    losses = model.loss(x, samples)
    y = torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        z_s = model.student(x, mode='tensor')
        z_t = model.teacher(x, mode='tensor')
    ce = F.cross_entropy(z_s, y)
    kl = F.kl_div(F.log_softmax(z_s, 1), F.softmax(z_t, 1),
                  reduction='batchmean')
    torch.testing.assert_close(losses['student.loss'].detach(), 0.8 * ce)
    torch.testing.assert_close(losses['distill.loss_kl'].detach(), 0.2 * kl)


def test_without_alpha_the_heads_and_losses_weights_apply():
    cfg = kd(alpha=None)
    cfg['distiller']['distill_losses']['loss_kl']['loss_weight'] = 0.7
    model = MODELS.build(cfg)
    x, samples = batch()
    losses = model.loss(x, samples)
    with torch.no_grad():
        ce = F.cross_entropy(model.student(x, mode='tensor'),
                             torch.tensor([0, 1, 2, 1]))
    torch.testing.assert_close(losses['student.loss'].detach(), ce)


def test_different_class_counts_are_refused_before_any_loss():
    teacher = toy_classifier(num_classes=5)
    model = MODELS.build(kd(teacher=teacher))
    with pytest.raises(ValueError, match='student gives 3 classes and the '
                       'teacher 5.*num_classes'):
        model.loss(*batch())


@pytest.mark.parametrize('weight', [float('nan'), float('inf')])
def test_a_non_finite_loss_weight_is_refused_at_build(weight):
    cfg = kd(alpha=None)
    cfg['distiller']['distill_losses']['loss_kl']['loss_weight'] = weight
    with pytest.raises(ValueError, match=r'SingleTeacherDistill: model\.'
                       r'distiller\.distill_losses\.loss_kl\.loss_weight='
                       r'(nan|inf) is not a finite number'):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='model.alpha'):
        MODELS.build(kd(alpha=weight))

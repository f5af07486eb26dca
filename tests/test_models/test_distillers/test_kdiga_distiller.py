"""KDIGADistiller: its default records on both sides, when it needs input
gradients, refused alignment mappings, what ``record`` writes and the
losses it forwards."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmrazor.models.task_modules import ModuleOutputsRecorder
from mmrazor.registry import MODELS
from torch import nn

from kdiga_mmrazor.models.distillers import KDIGADistiller
from kdiga_mmrazor.models.distillers.kdiga_distiller import DEFAULT_RECORDERS

from ...conftest import data_samples, kdiga_model, toy_classifier


@pytest.fixture(autouse=True)
def mmrazor_scope():
    """Build in MMRazor's scope, whatever default scope a Runner built
    earlier in the session left behind."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


KL = dict(
    loss_kl=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')))
IGA = dict(
    loss_iga=dict(
        grad_S=dict(from_student=True, recorder='input_grad'),
        grad_T=dict(from_student=False, recorder='input_grad')))


def distiller_cfg(mappings=None, **kwargs):
    """KL (weight 0.5) and IGA (l2, per sample, weight 0.1), both mapped
    unless ``mappings`` says otherwise."""
    return dict(
        type='KDIGADistiller',
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=0.5),
            loss_iga=dict(
                type='InputGradientAlignmentLoss',
                distance='l2',
                mode='per_sample',
                loss_weight=0.1)),
        loss_forward_mappings=copy.deepcopy(
            dict(KL, **IGA) if mappings is None else mappings),
        **kwargs)


def prepared(cfg):
    """The distiller with its recorders initialised on a model with an
    ``fc`` (what the ``ModuleOutputs`` recorders here hook)."""
    distiller = MODELS.build(cfg)
    distiller.prepare_from_student(nn.ModuleDict(dict(fc=nn.Linear(3, 3))))
    distiller.prepare_from_teacher(nn.ModuleDict(dict(fc=nn.Linear(3, 3))))
    return distiller


def _kinds(manager):
    return {n: (type(r).__name__, r.source)
            for n, r in manager.recorders.items()}


def _tensor(seed, shape=(2, 3)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


DEFAULT_KINDS = {
    'logits': ('KDIGAOutputsRecorder', 'logits'),
    'input_grad': ('KDIGAOutputsRecorder', 'input_grad')
}


def test_builds_from_mmrazor_models():
    # by name: a test elsewhere may re-import the module (a second class)
    built = type(MODELS.build(distiller_cfg()))
    assert (built.__module__, built.__name__) == (
        KDIGADistiller.__module__, 'KDIGADistiller')


def test_both_sides_get_logits_and_input_grad_recorders():
    distiller = MODELS.build(distiller_cfg(mappings={}))
    assert _kinds(distiller.student_recorders) == DEFAULT_KINDS
    assert _kinds(distiller.teacher_recorders) == DEFAULT_KINDS


def test_extra_recorders_sit_beside_the_defaults():
    distiller = MODELS.build(
        distiller_cfg(
            mappings={},
            student_recorders=dict(
                feat=dict(type='ModuleOutputs', source='fc'))))
    assert _kinds(distiller.student_recorders) == dict(
        DEFAULT_KINDS, feat=('ModuleOutputsRecorder', 'fc'))
    assert _kinds(distiller.teacher_recorders) == DEFAULT_KINDS


def test_a_recorder_named_like_a_default_replaces_it():
    distiller = MODELS.build(
        distiller_cfg(
            mappings=KL,
            teacher_recorders=dict(
                logits=dict(type='ModuleOutputs', source='fc'))))
    assert _kinds(distiller.teacher_recorders) == dict(
        DEFAULT_KINDS, logits=('ModuleOutputsRecorder', 'fc'))
    assert DEFAULT_RECORDERS['logits'] == dict(
        type='KDIGAOutputs', source='logits')


def test_needs_input_gradients_when_alignment_reads_input_grad():
    assert MODELS.build(distiller_cfg()).needs_input_gradients


def test_no_input_gradients_for_plain_kd():
    assert not MODELS.build(distiller_cfg(mappings=KL)).needs_input_gradients


def test_needs_input_gradients_for_any_loss_reading_input_grad():
    cfg = distiller_cfg(
        mappings=dict(
            loss_l2=dict(
                s_feature=dict(from_student=True, recorder='input_grad'),
                t_feature=dict(from_student=False, recorder='input_grad'))))
    cfg['distill_losses'] = dict(loss_l2=dict(type='L2Loss'))
    assert MODELS.build(cfg).needs_input_gradients


def test_input_grad_is_a_source_not_a_recorder_name():
    # a recorder *named* input_grad that hooks a module is no input gradient
    cfg = distiller_cfg(
        mappings=dict(
            loss_l2=dict(
                s_feature=dict(from_student=True, recorder='input_grad'),
                t_feature=dict(from_student=False, recorder='input_grad'))),
        student_recorders=dict(
            input_grad=dict(type='ModuleOutputs', source='fc')),
        teacher_recorders=dict(
            input_grad=dict(type='ModuleOutputs', source='fc')))
    cfg['distill_losses'] = dict(loss_l2=dict(type='L2Loss'))
    assert not MODELS.build(cfg).needs_input_gradients


def test_alignment_may_read_an_input_grad_recorder_of_any_name():
    grads = dict(type='KDIGAOutputs', source='input_grad')
    distiller = MODELS.build(
        distiller_cfg(
            mappings=dict(
                loss_iga=dict(
                    grad_S=dict(from_student=True, recorder='g'),
                    grad_T=dict(from_student=False, recorder='g'))),
            student_recorders=dict(g=grads),
            teacher_recorders=dict(g=grads)))
    assert distiller.needs_input_gradients


@pytest.mark.parametrize('arg, spec, side', [
    ('grad_S', dict(from_student=False, recorder='input_grad'), 'student'),
    ('grad_S', dict(from_student=True, recorder='logits'), 'student'),
    ('grad_T', dict(from_student=True, recorder='input_grad'), 'teacher'),
    ('grad_T', dict(from_student=False, recorder='logits'), 'teacher'),
])
def test_misrouted_alignment_is_refused_naming_key_and_fix(arg, spec, side):
    mappings = copy.deepcopy(dict(KL, **IGA))
    mappings['loss_iga'][arg] = spec
    student = arg == 'grad_S'
    with pytest.raises(ValueError, match=(
            rf"^KDIGADistiller: loss_forward_mappings\.loss_iga\.{arg} must "
            rf"read the {side}'s input gradient, i\.e\. dict\(from_student="
            rf"{student}, recorder='input_grad'\); got ")):
        MODELS.build(distiller_cfg(mappings=mappings))


def test_alignment_read_from_a_module_recorder_is_refused():
    mappings = copy.deepcopy(IGA)
    mappings['loss_iga']['grad_T']['recorder'] = 'feat'
    cfg = distiller_cfg(
        mappings=mappings,
        teacher_recorders=dict(feat=dict(type='ModuleOutputs', source='fc')))
    with pytest.raises(ValueError,
                       match=r'loss_forward_mappings\.loss_iga\.grad_T must'):
        MODELS.build(cfg)


def test_error_names_the_alignment_loss_as_configured():
    cfg = distiller_cfg(
        mappings=dict(
            loss_align=dict(
                grad_S=dict(from_student=True, recorder='input_grad'),
                grad_T=dict(from_student=True, recorder='input_grad'))))
    cfg['distill_losses'] = dict(
        loss_align=dict(type='InputGradientAlignmentLoss'))
    with pytest.raises(ValueError,
                       match=r'loss_forward_mappings\.loss_align\.grad_T'):
        MODELS.build(cfg)


def test_record_writes_to_its_side_and_source_only():
    distiller = prepared(distiller_cfg())
    z_s = _tensor(0)
    distiller.record(True, 'logits', z_s)
    student, teacher = (distiller.student_recorders,
                        distiller.teacher_recorders)
    assert student.get_recorder('logits').data_buffer == [z_s]
    assert student.get_recorder('input_grad').data_buffer == []
    assert teacher.get_recorder('logits').data_buffer == []
    assert teacher.get_recorder('input_grad').data_buffer == []


def test_record_writes_to_every_recorder_of_the_source():
    distiller = prepared(
        distiller_cfg(
            teacher_recorders=dict(
                g2=dict(type='KDIGAOutputs', source='input_grad'),
                feat=dict(type='ModuleOutputs', source='fc'))))
    g_t = _tensor(0, (2, 3, 4, 4))
    distiller.record(False, 'input_grad', g_t)
    teacher = distiller.teacher_recorders
    assert teacher.get_recorder('input_grad').get_record_data() is g_t
    assert teacher.get_recorder('g2').get_record_data() is g_t
    assert teacher.get_recorder('feat').data_buffer == []


def test_record_skips_a_replaced_default():
    distiller = prepared(
        distiller_cfg(
            mappings=KL,
            student_recorders=dict(
                logits=dict(type='ModuleOutputs', source='fc'))))
    distiller.record(True, 'logits', _tensor(0))
    rec = distiller.student_recorders.get_recorder('logits')
    assert isinstance(rec, ModuleOutputsRecorder)
    assert rec.data_buffer == []


def test_forwards_the_records_to_the_losses():
    distiller = prepared(distiller_cfg())
    z_s, z_t = _tensor(0), _tensor(1)
    g_s, g_t = _tensor(2, (2, 3, 4, 4)), _tensor(3, (2, 3, 4, 4))
    for from_student, z, g in ((True, z_s, g_s), (False, z_t, g_t)):
        distiller.record(from_student, 'logits', z)
        distiller.record(from_student, 'input_grad', g)
    losses = distiller.compute_distill_losses()
    # KLDivergence (τ = 1, batchmean): Σ p_t (log p_t − log p_s) / B
    p_t = z_t.softmax(1)
    kl = (p_t * (p_t.log() - z_s.log_softmax(1))).sum() / 2
    # per-sample IGA: w · mean_i ‖g_s,i − g_t,i‖₂
    iga = (g_s - g_t).flatten(1).norm(dim=1).mean()
    torch.testing.assert_close(losses['loss_kl'], 0.5 * kl)
    torch.testing.assert_close(losses['loss_iga'], 0.1 * iga)


def test_kdiga_distill_records_each_models_logits():
    torch.manual_seed(0)
    model = MODELS.build(kdiga_model(toy_classifier(), toy_classifier()))
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    model.loss(x, data_samples([0, 1, 2, 0]))
    distiller = model.distiller
    with torch.no_grad():
        expected_s = model.pixel_classifier('student')(x)
        expected_t = model.pixel_classifier('teacher')(x)
    for manager, expected in ((distiller.student_recorders, expected_s),
                              (distiller.teacher_recorders, expected_t)):
        (record, ) = manager.get_recorder('logits').data_buffer
        torch.testing.assert_close(record.detach(), expected)


def test_kdiga_distill_without_alignment_records_no_input_gradient():
    cfg = kdiga_model(toy_classifier(), toy_classifier())
    cfg['distiller']['loss_forward_mappings'].pop('loss_iga')
    model = MODELS.build(cfg)
    model.loss(torch.rand(2, 3, 8, 8), data_samples([0, 1]))
    for manager in (model.distiller.student_recorders,
                    model.distiller.teacher_recorders):
        assert manager.get_recorder('input_grad').data_buffer == []
        assert len(manager.get_recorder('logits').data_buffer) == 1


def test_kdiga_distill_records_teachers_detached_input_gradient():
    model = MODELS.build(kdiga_model(toy_classifier(), toy_classifier()))
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([2, 0])
    model.loss(x, data_samples(y))
    g_t = model.distiller.teacher_recorders.get_recorder(
        'input_grad').get_record_data()
    x0 = x.clone().requires_grad_(True)
    ce = F.cross_entropy(model.pixel_classifier('teacher')(x0), y,
                         reduction='sum')
    (expected, ) = torch.autograd.grad(ce, x0)
    torch.testing.assert_close(g_t, expected)
    assert not g_t.requires_grad  # the teacher's record is a constant


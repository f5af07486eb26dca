"""KDIGADistill: gradients, frozen teacher, normalisations, any pair."""
import copy
import logging

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmrazor.registry import MODELS

from kdiga_mmrazor.ops import sdpa_math_kernel

from ...conftest import data_samples, kdiga_model, toy_classifier

CIFAR_MEAN, CIFAR_STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]
IMAGENET_MEAN, IMAGENET_STD = [123.675, 116.28, 103.53], [58.4, 57.1, 57.4]


def build(student=None, teacher=None, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(
        kdiga_model(student or toy_classifier(), teacher or toy_classifier(),
                    **kwargs))
    model.init_weights()
    return model


def batch(n=4, size=8, seed=1, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=gen, dtype=dtype)
    return x, data_samples(torch.arange(n) % 3)


def iga_only(model):
    model.distiller.distill_losses['loss_kl'].loss_weight = 0.0
    model.calculate_student_loss = False
    return model


def test_iga_gradient_of_student_matches_finite_differences():
    model = iga_only(build()).double()
    model.train()
    x, samples = batch(dtype=torch.float64)
    weight = model.architecture.backbone.fc1.weight

    def iga():
        return model.loss(x, samples)['distill.loss_iga']

    model.zero_grad()
    iga().backward()
    analytic = weight.grad.clone()
    assert analytic.abs().max() > 1e-4, 'IGA does not train the student'
    h = 1e-6
    for index in [(0, 0), (3, 17), (15, 191)]:
        original = weight.data[index].item()
        weight.data[index] = original + h
        up = iga().item()
        weight.data[index] = original - h
        down = iga().item()
        weight.data[index] = original
        numeric = (up - down) / (2 * h)
        assert abs(numeric - analytic[index].item()) < 1e-6 + 1e-4 * abs(
            numeric), (index, numeric, analytic[index].item())


def test_input_gradients_are_the_per_sample_ce_gradients():
    model = build()
    x, samples = batch()
    model.loss(x, samples)
    g_s = model.distiller.student_recorders.get_recorder(
        'input_grad').get_record_data()
    student = model.pixel_classifier('student')
    x0 = x[:1].clone().requires_grad_(True)
    ce = F.cross_entropy(student(x0), torch.tensor([0]))
    (expected, ) = torch.autograd.grad(ce, x0)
    torch.testing.assert_close(g_s[:1].detach(), expected)


def test_teacher_gets_no_gradient_and_keeps_batchnorm_statistics():
    teacher = toy_classifier(batch_norm=True, dropout=0.5)
    model = build(toy_classifier(batch_norm=True), teacher)
    stats = copy.deepcopy(model.teacher.backbone.bn.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train()
    assert not any(m.training for m in model.teacher.modules())
    assert model.architecture.training
    x, samples = batch()
    before = model.architecture.backbone.fc1.weight.detach().clone()
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    for _ in range(2):
        model.train_step(
            dict(inputs=[(img * 255).to(torch.uint8) for img in x],
                 data_samples=samples), optim)
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    for key, value in model.teacher.backbone.bn.state_dict().items():
        torch.testing.assert_close(value, stats[key])
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, teacher_before[key])
    assert not torch.equal(model.architecture.backbone.fc1.weight, before)


def test_teacher_dropout_is_off_so_its_gradient_is_deterministic():
    model = build(teacher=toy_classifier(dropout=0.9))
    model.train()
    x, samples = batch()
    grads = []
    for _ in range(2):
        model.loss(x, samples)
        grads.append(
            model.distiller.teacher_recorders.get_recorder(
                'input_grad').get_record_data())
    torch.testing.assert_close(grads[0], grads[1])


def test_same_network_gives_zero_kd_and_alignment_losses():
    net = toy_classifier(CIFAR_MEAN, CIFAR_STD)
    model = build(net, net)
    model.teacher.load_state_dict(model.architecture.state_dict())
    losses = model.loss(*batch())
    assert losses['distill.loss_iga'].abs() < 1e-6
    assert losses['distill.loss_kl'].abs() < 1e-6
    torch.testing.assert_close(losses['distill.iga_cos_sim'],
                               torch.tensor(1.0))


def _reparametrised_student(model):
    """Make f_s(norm_s(x)) == f_t(norm_t(x)) for the toy MLP.

    norm_t(x) = (s_s/s_t)·norm_s(x) + (m_s − m_t)/s_t per channel, folded
    into the student's first linear layer.
    """
    t_dp, s_dp = model.teacher.data_preprocessor, \
        model.architecture.data_preprocessor
    scale = (s_dp.std / t_dp.std).flatten()  # per channel
    shift = ((s_dp.mean - t_dp.mean) / t_dp.std).flatten()
    pixels = 8 * 8
    scale = scale.repeat_interleave(pixels)
    shift = shift.repeat_interleave(pixels)
    student, teacher = model.architecture.backbone, model.teacher.backbone
    with torch.no_grad():
        student.load_state_dict(teacher.state_dict())
        student.fc1.weight.copy_(teacher.fc1.weight * scale)
        student.fc1.bias.copy_(teacher.fc1.bias + teacher.fc1.weight @ shift)


def test_each_model_uses_its_own_normalisation():
    model = build(toy_classifier(IMAGENET_MEAN, IMAGENET_STD),
                  toy_classifier(CIFAR_MEAN, CIFAR_STD))
    _reparametrised_student(model)
    x, samples = batch()
    torch.testing.assert_close(
        model.pixel_classifier('student')(x),
        model.pixel_classifier('teacher')(x))
    losses = model.loss(x, samples)
    assert losses['distill.loss_iga'] < 1e-5
    # A single shared normalisation would misalign them:
    model._normalizers['student'] = model._normalizers['teacher']
    assert model.loss(x, samples)['distill.loss_iga'] > 1e-2


def _vit(num_classes=3, img_size=8):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        backbone=dict(
            type='VisionTransformer',
            arch=dict(
                embed_dims=32,
                num_layers=1,
                num_heads=2,
                feedforward_channels=64),
            img_size=img_size,
            patch_size=4,
            drop_path_rate=0.1),
        head=dict(
            type='VisionTransformerClsHead',
            num_classes=num_classes,
            in_channels=32))


def _cnn(num_classes=3):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=8,
                      stem_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=64))


def _mobilenet_v2(num_classes=3):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        backbone=dict(type='MobileNetV2', widen_factor=0.25),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=1280))


def reference_iga(model, x, labels):
    """γ·mean_i ‖g_s,i − g_t,i‖₂ computed by hand: ∇ₓ of the summed CE of
    each model's pixel-space classifier, the student's with a graph."""
    gamma = model.distiller.distill_losses['loss_iga'].loss_weight
    grads = []
    for member in ('teacher', 'student'):
        x_m = x.clone().requires_grad_(True)
        with sdpa_math_kernel():
            ce = F.cross_entropy(
                model.pixel_classifier(member)(x_m), labels,
                reduction='sum')
            (g, ) = torch.autograd.grad(
                ce, x_m, create_graph=member == 'student')
        grads.append(g)
    return gamma * (grads[1] - grads[0]).flatten(1).norm(dim=1).mean()


def assert_iga_matches_reference(model, seed=0):
    """The algorithm's loss_iga and its gradient on the student equal the
    hand-computed ones (same dropout draws through the same seed), in
    float64: train-mode BatchNorm over a batch of 4 at 1×1 pixels is too
    ill-conditioned for float32 second derivatives to agree closely."""
    model.double()
    x, samples = batch(dtype=torch.float64)
    labels = torch.arange(4) % 3
    params = [p for p in model.architecture.parameters() if p.requires_grad]
    torch.manual_seed(seed)
    got = model.loss(x, samples)['distill.loss_iga']
    got_grads = torch.autograd.grad(got, params, allow_unused=True)
    torch.manual_seed(seed)
    want = reference_iga(model, x, labels)
    want_grads = torch.autograd.grad(want, params, allow_unused=True)
    assert want > 0
    torch.testing.assert_close(got, want, rtol=1e-7, atol=1e-9)
    # entries that vanish in exact arithmetic come out at rounding level,
    # so the absolute tolerance scales with the largest gradient
    scale = max(w.abs().max().item() for w in want_grads if w is not None)
    trained = 0
    for g, w in zip(got_grads, want_grads):
        if w is None:
            assert g is None or not g.any()
            continue
        torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-9 * scale)
        trained += bool(w.abs().sum() > 0)
    # biases of a piecewise-linear net leave g_s unchanged; weights do not
    assert trained >= 3, (trained, len(params))


@pytest.mark.parametrize('student, teacher', [(_vit(), _cnn()),
                                              (_cnn(), _vit()),
                                              (_mobilenet_v2(), _cnn()),
                                              (_cnn(), _cnn())],
                         ids=['cnn_to_vit', 'vit_to_cnn',
                              'resnet_to_mobilenet_v2', 'resnet_to_resnet'])
def test_architecture_pairs_double_backprop_on_cpu(student, teacher):
    """Any MMPretrain pair: loss_iga and its second-order gradient on the
    student equal a hand-written double backprop of the same models."""
    model = build(student, teacher)
    with torch.no_grad():  # MMPretrain zero-initialises ViT heads: g = 0
        for param in model.parameters():
            if param.dim() > 1 and not param.any():
                param.normal_(std=0.1)
    model.train()
    assert_iga_matches_reference(model)


def test_vit_student_without_math_kernel_fails_double_backward():
    # the reason math_sdpa exists: fused SDPA has no double backward
    model = build(_vit(), _cnn(), math_sdpa=False)
    model.train()
    losses = model.loss(*batch())
    with pytest.raises(RuntimeError, match='derivative'):
        losses['distill.loss_iga'].backward()


def test_timm_vit_student_through_mmpretrain_wrapper():
    student = dict(
        _scope_='mmpretrain',
        type='TimmClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        model_name='vit_tiny_patch16_224',
        pretrained=False,
        img_size=8,
        patch_size=4,
        embed_dim=32,
        depth=1,
        num_heads=2,
        num_classes=3)
    model = build(student, toy_classifier())
    model.train()
    assert 'student.loss' in model.loss(*batch())
    assert_iga_matches_reference(model)


def test_teacher_at_another_resolution_is_resized_inside_the_gradient():
    teacher = toy_classifier(in_features=3 * 16 * 16)
    with pytest.raises(RuntimeError, match='mat1 and mat2'):
        build(teacher=teacher).loss(*batch())
    model = build(teacher=teacher, teacher_input_size=(16, 16))
    x, samples = batch()
    model.loss(x, samples)
    g_t = model.distiller.teacher_recorders.get_recorder(
        'input_grad').get_record_data()
    # by hand: the teacher sees the 8×8 batch upsampled to 16×16, and the
    # gradient flows back through the resize to the 8×8 pixels
    x_t = x.clone().requires_grad_(True)
    x_up = F.interpolate(x_t, size=(16, 16), mode='bilinear',
                         align_corners=False)
    logits = model.teacher(model._normalizers['teacher'](x_up), mode='tensor')
    (want, ) = torch.autograd.grad(
        F.cross_entropy(logits, torch.arange(4) % 3, reduction='sum'), x_t)
    assert g_t.shape == (4, 3, 8, 8)
    torch.testing.assert_close(g_t, want)
    assert want.abs().sum() > 0


def test_bf16_autocast_keeps_input_gradients_fp32_and_finite():
    """Under bf16 autocast g_s, g_t and loss_iga are float32 and agree with
    the float32 step to bf16 precision (8 mantissa bits: 2⁻⁸ ≈ 0.4% per
    op; 5% covers the few matmuls of the toy models)."""
    model = build()
    model.train()
    x, samples = batch()
    fp32 = model.loss(x, samples)['distill.loss_iga']
    want = {side: getattr(model.distiller, f'{side}_recorders').get_recorder(
        'input_grad').get_record_data().detach() for side in ('student',
                                                             'teacher')}
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(x, samples)
    for side, expected in want.items():
        got = getattr(model.distiller, f'{side}_recorders').get_recorder(
            'input_grad').get_record_data()
        assert got.dtype == torch.float32
        torch.testing.assert_close(got.detach(), expected, rtol=0.05,
                                   atol=0.05 * expected.abs().max().item())
    assert losses['distill.loss_iga'].dtype == torch.float32
    torch.testing.assert_close(losses['distill.loss_iga'].detach(),
                               fp32.detach(), rtol=0.05, atol=0)


def test_plain_kd_takes_no_input_gradient():
    cfg = kdiga_model(toy_classifier(), toy_classifier())
    del cfg['distiller']['distill_losses']['loss_iga']
    del cfg['distiller']['loss_forward_mappings']['loss_iga']
    model = MODELS.build(cfg)
    assert not model.distiller.needs_input_gradients
    losses = model.loss(*batch())
    assert set(losses) == {'student.loss', 'distill.loss_kl'}


def test_different_class_counts_fail_clearly():
    with pytest.raises(ValueError, match='student gives 3 classes and the '
                       'teacher 5'):
        build(teacher=toy_classifier(num_classes=5)).loss(*batch())


def test_a_normalising_algorithm_preprocessor_only_scales_and_lends_its_stats(
        mmengine_log):
    """A config's top-level data_preprocessor (what the Runner hands the
    model, e.g. a stock MMPretrain config's): the algorithm only scales to
    [0, 1]; a model that states no normalisation of its own takes its
    mean/std (logged), a model that states one keeps it."""
    student = toy_classifier()
    del student['data_preprocessor']  # as a stock config's `model`
    cfg = kdiga_model(student, toy_classifier(IMAGENET_MEAN, IMAGENET_STD))
    cfg['data_preprocessor'] = dict(type='mmpretrain.ClsDataPreprocessor',
                                    mean=CIFAR_MEAN, std=CIFAR_STD)
    model = MODELS.build(cfg)
    dp = model.data_preprocessor
    assert dp.mean.flatten().tolist() == [0.0] * 3
    assert dp.std.flatten().tolist() == [255.0] * 3
    x = torch.rand(2, 3, 8, 8)
    cifar = (x - torch.tensor(CIFAR_MEAN).view(3, 1, 1) / 255) / (
        torch.tensor(CIFAR_STD).view(3, 1, 1) / 255)
    imagenet = (x - torch.tensor(IMAGENET_MEAN).view(3, 1, 1) / 255) / (
        torch.tensor(IMAGENET_STD).view(3, 1, 1) / 255)
    torch.testing.assert_close(model._normalizers['student'](x), cifar)
    torch.testing.assert_close(model._normalizers['teacher'](x), imagenet)
    assert any('model.architecture states no data_preprocessor; it '
               'normalises with' in m for m in mmengine_log.messages())


def test_a_model_without_a_stated_normalisation_names_the_key():
    student = toy_classifier()
    del student['data_preprocessor']
    with pytest.raises(ValueError, match=r'model.architecture states no '
                       r'data_preprocessor.*_base_.data_preprocessor'):
        MODELS.build(kdiga_model(student, toy_classifier()))


def test_a_models_own_to_rgb_is_honoured_inside_it():
    """The algorithm gives RGB pixels (CIFAR10 loads RGB, to_rgb=False); a
    teacher trained on BGR (to_rgb=True converts its BGR loader) sees them
    flipped, inside its pixel-space view."""
    teacher = toy_classifier(CIFAR_MEAN, CIFAR_STD)
    teacher['data_preprocessor']['to_rgb'] = True
    model = MODELS.build(kdiga_model(toy_classifier(), teacher))
    x = torch.rand(2, 3, 8, 8)
    want = (x.flip(1) - torch.tensor(CIFAR_MEAN).view(3, 1, 1) / 255) / (
        torch.tensor(CIFAR_STD).view(3, 1, 1) / 255)
    torch.testing.assert_close(model._normalizers['teacher'](x), want)
    assert not model._normalizers['student'].flip_channels
    assert 'channels flipped' in str(model.pixel_classifier('teacher'))


def test_inputs_outside_pixel_range_are_refused():
    with pytest.raises(ValueError, match=r'not \[0, 1\] pixels'):
        build().loss(torch.rand(2, 3, 8, 8) * 255, data_samples([0, 1]))


def test_misrouted_alignment_mapping_is_refused():
    cfg = kdiga_model(toy_classifier(), toy_classifier())
    cfg['distiller']['loss_forward_mappings']['loss_iga']['grad_T'][
        'from_student'] = True
    with pytest.raises(ValueError, match=r'loss_iga.grad_T must read the '
                       "teacher's input gradient"):
        MODELS.build(cfg)


def test_teacher_and_student_checkpoints_load_strictly(tmp_path):
    source = build()
    teacher_path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': source.teacher.state_dict()}, teacher_path)
    bare_path = tmp_path / 'student_backbone.pth'
    torch.save(source.architecture.backbone.state_dict(), bare_path)
    model = build(teacher_ckpt=str(teacher_path), student_ckpt=str(bare_path))
    torch.testing.assert_close(model.teacher.backbone.fc2.weight,
                               source.teacher.backbone.fc2.weight)
    torch.testing.assert_close(model.architecture.backbone.fc1.weight,
                               source.architecture.backbone.fc1.weight)
    assert len(model.teacher_sha256) == 64
    with pytest.raises(KeyError, match='model.teacher_ckpt'):
        build(teacher=toy_classifier(hidden=8), teacher_ckpt=str(teacher_path))


def test_predict_normalises_with_the_students_own_statistics():
    model = build(toy_classifier(CIFAR_MEAN, CIFAR_STD))
    model.eval()
    x, samples = batch()
    predicted = model(x, samples, mode='predict')
    expected = model.pixel_classifier('student')(x).softmax(1)
    torch.testing.assert_close(
        torch.stack([p.pred_score for p in predicted]), expected)


@pytest.mark.parametrize('student, closed_forms', [
    (_cnn(), {'conv_nd', 'batch_norm_train'}),
    (_vit(img_size=16), {'conv_nd', 'layer_norm', 'gelu'}),
])
def test_fast_double_backward_gives_pytorchs_gradients(
        student, closed_forms, monkeypatch):
    """The closed-form double backwards change the cost, not the numbers:
    same student gradients and BatchNorm statistics as PyTorch's own."""
    from kdiga_mmrazor.ops.double_backward import mode as fast_module
    calls = []
    for name in closed_forms:
        original = getattr(fast_module, name)
        monkeypatch.setattr(
            fast_module, name,
            lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(
                *a, **k))
    x, samples = batch(n=6, size=16, dtype=torch.float64)
    results = []
    for fast in (True, False):
        calls.clear()
        model = build(student, _cnn(), fast_double_backward=fast).double()
        model.train()
        losses = model.loss(x, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        assert set(calls) == (closed_forms if fast else set())
        results.append((losses['distill.loss_iga'].detach(),
                        [p.grad for p in model.architecture.parameters()],
                        [b.clone() for b in model.architecture.buffers()]))
    (iga_fast, grads_fast, stats_fast), (iga, grads, stats) = results
    assert iga > 0
    torch.testing.assert_close(iga_fast, iga)
    for a, b in zip(grads_fast + stats_fast, grads + stats):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('key, value', [('teacher_trainable', True),
                                        ('teacher_norm_eval', False)])
def test_a_trainable_or_train_mode_teacher_is_refused(key, value):
    with pytest.raises(ValueError, match=f'model.{key}={value}'):
        build(**{key: value})


def _zero_head(model, member):
    net = model.teacher if member == 'teacher' else model.architecture
    with torch.no_grad():
        net.backbone.fc2.weight.zero_()


def test_a_teacher_with_zero_input_gradients_stops_the_first_step():
    model = build()
    _zero_head(model, 'teacher')
    with pytest.raises(RuntimeError, match=r"teacher's input gradient .* "
                       r'exactly 0.*head that starts at zero.*checkpoint'):
        model.loss(*batch())


def test_a_non_finite_input_gradient_stops_the_first_step():
    model = build()
    with torch.no_grad():
        model.architecture.backbone.fc1.weight[0, 0] = float('nan')
    with pytest.raises(RuntimeError, match="student's input gradient.*not "
                       'finite.*model.architecture'):
        model.loss(*batch())


def test_a_student_with_zero_input_gradients_warns_and_still_trains(
        mmengine_log):
    model = build()
    _zero_head(model, 'student')
    losses = model.loss(*batch())
    assert any("student's input gradient of the first step is exactly 0"
               in m for m in mmengine_log.messages(logging.WARNING))
    losses['distill.loss_iga'].backward()
    assert model.architecture.backbone.fc2.weight.grad.abs().sum() > 0
    # the check runs once: later steps are not inspected again
    assert model._grads_checked

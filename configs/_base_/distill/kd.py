# MMRazor logit KD (Hinton et al. 2015) in MMRazor's model-dict shape:
#   L = (1 − α)·CE(z_s, y) + α·τ²·KL(softmax(z_t/τ) ‖ softmax(z_s/τ))
# with α = 0.5, τ = 1 (the KDIGA authors' defaults). Defines `kd_distill`
# only (not `model`, so it can sit in `_base_` beside a stock MMPretrain
# config); experiment configs write
#   model = dict(_base_.kd_distill, architecture=..., teacher=...,
#                teacher_ckpt=...)
# α is `model.alpha`, as in the KDIGA configs: the student's task loss is
# scaled to 1 − α whatever its head's loss_weight says, the KL term gets α.
# `SingleTeacherDistill` is MMRazor's algorithm; with the plugin imported it
# loads the teacher strictly (teacher_ckpt or a Pretrained init_cfg) and
# takes `alpha`. Recorders read the head's output (the logits) of any
# MMPretrain classifier.
kd_distill = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    alpha=0.5,  # (1 − α)·CE of the student, α on the KL term
    teacher_ckpt=None,
    calculate_student_loss=True,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(logits=dict(type='ModuleOutputs',
                                           source='head')),
        teacher_recorders=dict(logits=dict(type='ModuleOutputs',
                                           source='head')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1)),  # weight: α
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))

# KDIGA (Shao et al. 2021) in MMRazor's model-dict shape:
#   L = (1 − α)·CE(z_s, y) + α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T))
#       + γ·mean_i ‖∇ₓCE(f_s(x_i), y_i) − ∇ₓCE(f_t(x_i), y_i)‖₂
# α = 0.5, T = 1 (the authors' defaults); γ = 0.1 per-sample (README,
# "Choosing γ"; `model.distiller.distill_losses.loss_iga.loss_weight`).
# Defines `kdiga_distill` only (not `model`, so it can sit in `_base_`
# beside a stock MMPretrain config); experiment configs write
#   model = dict(_base_.kdiga_distill, architecture=..., teacher=...,
#                teacher_ckpt=...)
# α is `model.alpha`: the student's own task loss is scaled to 1 − α
# whatever its head's loss_weight says, the KL term gets α.
# No data_preprocessor here: the Runner hands the model the config's
# top-level one (a dataset base's), which KDIGADistill turns into a
# scale-only one (pixels in [0, 1], its channel conversion kept); each model
# normalises with its own data_preprocessor mean/std, or, when it states
# none (a stock config's `model`), with the top-level one's (logged).
kdiga_distill = dict(
    _scope_='mmrazor',
    type='KDIGADistill',
    alpha=0.5,  # (1 − α)·CE of the student, α on the KL term
    teacher_ckpt=None,
    student_ckpt=None,
    distiller=dict(
        type='KDIGADistiller',
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1),  # weight: α
            loss_iga=dict(
                type='InputGradientAlignmentLoss',
                distance='l2',
                mode='per_sample',
                loss_weight=0.1)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')),
            loss_iga=dict(
                grad_S=dict(from_student=True, recorder='input_grad'),
                grad_T=dict(from_student=False, recorder='input_grad')))))

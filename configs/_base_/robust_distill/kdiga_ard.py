# KDIGA + ARD (Shao et al. 2021, RulinShao/AdversariallyRobustDistillation
# main.py, --distill_method kdiga_ard): ARD's terms plus KDIGA's input
# gradient alignment on the clean batch,
#   L = (1 − α)·CE(S(x), y) + α·τ²·KL(T(x)/τ ‖ S(x')/τ)
#       + γ·mean_i ‖∇ₓCE(S(x_i), y_i) − ∇ₓCE(T(x_i), y_i)‖₂
# α = 1, τ = 30 from ard.py (also that script's defaults), γ = 0.1
# per-sample (configs/_base_/distill/kdiga.py). That script detaches the
# student's input gradient (`s_grad ... .clone().detach()`, so the term
# trains nothing) and its γ line raises (`inputs.shape[1].inputs`); here
# g_S keeps its graph, as in KDIGADistill.
# Defines `kdiga_ard_distiller` only, the distiller that turns ARD into
# KDIGA + ARD:
#   model = dict(_base_.ard_distill, distiller=_base_.kdiga_ard_distiller,
#                ...)
kdiga_ard_distiller = dict(
    type='KDIGADistiller',
    distill_losses=dict(
        loss_iga=dict(
            type='InputGradientAlignmentLoss',
            distance='l2',
            mode='per_sample',
            loss_weight=0.1)),  # γ
    loss_forward_mappings=dict(
        loss_iga=dict(
            grad_S=dict(from_student=True, recorder='input_grad'),
            grad_T=dict(from_student=False, recorder='input_grad'))))

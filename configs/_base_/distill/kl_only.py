# The KL term alone: turns a KDIGA config into its plain-KD twin, same
# algorithm (each model keeps its own normalisation), same schedule, no
# alignment term (KDIGADistill then takes no input gradient: plain-KD cost).
# Defines `kl_only_distiller` only; use it as
#   model = dict(distiller=_base_.kl_only_distiller)
kl_only_distiller = dict(
    distill_losses=dict(
        _delete_=True,
        loss_kl=dict(type='KLDivergence', tau=1)),  # weight: model.alpha
    loss_forward_mappings=dict(
        _delete_=True,
        loss_kl=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'))))

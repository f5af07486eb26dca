# Plain KD (α=0.5, T=1): robust resnet4b → ViT-Tiny/4 from scratch, trained
# exactly as kdiga_resnet4b_vit-tiny-p4_cifar10.py without the alignment
# term (KDIGADistill takes no input gradient then: plain-KD cost).
# Measured: not yet measured.
_base_ = ['./kdiga_resnet4b_vit-tiny-p4_cifar10.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=0.5)),
        loss_forward_mappings=dict(
            _delete_=True,
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))

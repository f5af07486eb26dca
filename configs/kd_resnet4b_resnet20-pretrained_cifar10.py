# Plain KD (α=0.5, T=1) fine-tuning of the pre-trained ResNet-20 from the
# robust resnet4b, trained exactly as
# kdiga_resnet4b_resnet20-pretrained_cifar10.py but without the alignment
# term (KDIGADistill keeps each model's own normalisation; without an
# input-gradient loss it takes no gradient: plain KD cost).
# Measured (1 epoch, CPU): clean 85.2 | PGD-20 @2/255 6.9 (1,000 images).
_base_ = ['./kdiga_resnet4b_resnet20-pretrained_cifar10.py']
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

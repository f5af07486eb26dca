# Plain KD (α=0.5, T=1) fine-tuning of the pre-trained ResNet-20 from the
# robust resnet4b, trained exactly as
# kdiga_resnet4b_resnet20_cifar10-pretrained.py but without the alignment
# term (same algorithm: each model keeps its own normalisation; without an
# input-gradient loss it takes no gradient: plain-KD cost).
# Measured (1 epoch, CPU): clean 85.2 | PGD-20 @2/255 6.9 (1,000 images).
_base_ = [
    './kdiga_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/distill/kl_only.py',  # defines `kl_only_distiller`
]
model = dict(distiller=_base_.kl_only_distiller)

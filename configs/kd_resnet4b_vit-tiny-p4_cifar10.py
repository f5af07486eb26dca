# Plain KD (α=0.5, T=1): robust resnet4b → ViT-Tiny/4 from scratch, trained
# exactly as kdiga_resnet4b_vit-tiny-p4_cifar10.py without the alignment
# term (same algorithm; it takes no input gradient then: plain-KD cost).
# Measured: not yet measured.
_base_ = [
    './kdiga_resnet4b_vit-tiny-p4_cifar10.py',
    './_base_/distill/kl_only.py',  # defines `kl_only_distiller`
]
model = dict(distiller=_base_.kl_only_distiller)

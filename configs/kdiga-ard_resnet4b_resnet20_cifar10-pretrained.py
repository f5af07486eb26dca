# KDIGA + ARD: ard_resnet4b_resnet20_cifar10-pretrained.py (ARD's terms on
# the student's own adversarial examples) plus KDIGA's input-gradient
# alignment on the clean batch, γ = 0.1 per-sample L2 (the KDIGA configs').
# Not yet measured.
_base_ = [
    './ard_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/robust_distill/kdiga_ard.py',  # defines `kdiga_ard_distiller`
]

model = dict(distiller=_base_.kdiga_ard_distiller)

# KDIGA + ARD from scratch: ard_resnet4b_resnet20_cifar10.py with KDIGA's
# input-gradient alignment on the clean batch (see
# kdiga-ard_resnet4b_resnet20_cifar10-pretrained.py and
# _base_/robust_distill/kdiga_ard.py for the formula and γ).
# Measured: not yet.
_base_ = [
    './ard_resnet4b_resnet20_cifar10.py',
    './_base_/robust_distill/kdiga_ard.py',  # defines `kdiga_ard_distiller`
]

model = dict(distiller=_base_.kdiga_ard_distiller)

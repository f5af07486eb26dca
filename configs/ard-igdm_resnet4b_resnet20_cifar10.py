# ARD + IGDM from scratch: ard_resnet4b_resnet20_cifar10.py with IGDM's
# plug-in term (see ard-igdm_resnet4b_resnet20_cifar10-pretrained.py and
# _base_/robust_distill/igdm.py for the formula and λ).
# Measured: not yet.
_base_ = [
    './ard_resnet4b_resnet20_cifar10.py',
    './_base_/robust_distill/igdm.py',  # defines `igdm`
]

model = dict(**_base_.igdm)

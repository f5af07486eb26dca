# ARD + IGDM (λ = 1, ramped up linearly over the 391 iterations, as the
# code's epoch/200 over its run): ard_resnet4b_resnet20_cifar10-pretrained.py
# plus the IGDM term on ARD's own perturbation δ = x' − x.
# Not yet measured.
_base_ = [
    './ard_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/robust_distill/igdm.py',  # defines `igdm`
]

model = dict(**_base_.igdm)

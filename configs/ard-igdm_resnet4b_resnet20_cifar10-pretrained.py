# ARD + IGDM (λ = 1, ramped up linearly over the 391 iterations, as the
# code's epoch/200 over its run): ard_resnet4b_resnet20_cifar10-pretrained.py
# plus the IGDM term on ARD's own perturbation δ = x' − x.
# Measured (1 epoch, CPU, seed 0; README "Baselines, one epoch"):
# clean 71.2 | PGD-20 @2/255 52.8 | @8/255 8.2 (500 images) |
# AutoAttack @2/255 46.0 (50 images) | 9.50× a plain-KD step.
_base_ = [
    './ard_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/robust_distill/igdm.py',  # defines `igdm`
]

model = dict(**_base_.igdm)

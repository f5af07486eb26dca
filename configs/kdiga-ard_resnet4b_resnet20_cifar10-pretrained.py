# KDIGA + ARD: ard_resnet4b_resnet20_cifar10-pretrained.py (ARD's terms on
# the student's own adversarial examples) plus KDIGA's input-gradient
# alignment on the clean batch, γ = 0.1 per-sample L2 (the KDIGA configs').
# Measured (1 epoch, CPU, seed 0; README "Baselines, one epoch"):
# clean 71.8 | PGD-20 @2/255 53.8 | @8/255 9.6 (500 images) |
# AutoAttack @2/255 50.0 (50 images) | 9.61× a plain-KD step.
_base_ = [
    './ard_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/robust_distill/kdiga_ard.py',  # defines `kdiga_ard_distiller`
]

model = dict(distiller=_base_.kdiga_ard_distiller)

# RSLAD (α = 5/6, τ = 1) fine-tuning of the pre-trained ResNet-20 from the
# robust resnet4b, trained as ard_resnet4b_resnet20_cifar10-pretrained.py (its
# teacher, student, schedule, evaluation and inner-maximisation budget:
# ε = 2/255, step 0.5/255, 10 steps, student in eval mode).
# Measured (1 epoch, CPU, seed 0; README "Baselines, one epoch"):
# clean 66.8 | PGD-20 @2/255 52.0 | @8/255 8.2 (500 images) |
# AutoAttack @2/255 52.0 (50 images) | 8.73× a plain-KD step.
_base_ = [
    './ard_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/robust_distill/rslad.py',  # defines `rslad_distill`
]

model = dict(
    _delete_=True,
    **dict(
        _base_.rslad_distill,
        attack=_base_.model.attack,
        architecture=_base_.model.architecture,
        teacher=_base_.model.teacher,
        teacher_ckpt=_base_.model.teacher_ckpt,
        student_ckpt=_base_.model.student_ckpt))

# ARD (α = 1, τ = 30) fine-tuning of the pre-trained ResNet-20 from the
# robust resnet4b (L∞ 2/255), trained exactly as
# kdiga_resnet4b_resnet20_cifar10-pretrained.py (same teacher, student
# checkpoint, one-epoch one-cycle schedule, robust validation and test);
# only the algorithm differs. Each model keeps its own normalisation.
# The student's inner maximisation works in the teacher's threat model:
# ε = 2/255, step ε/4 = 0.5/255 (the papers' 2/255 : 8/255), 10 steps,
# L∞, the student in eval mode while it attacks itself. The other
# robust-distillation configs inherit this one.
# Measured (1 epoch, CPU, seed 0; README "Baselines, one epoch"):
# clean 72.6 | PGD-20 @2/255 51.6 | @8/255 6.2 (500 images) |
# AutoAttack @2/255 48.0 (50 images) | 8.72× a plain-KD step.
_base_ = [
    './kdiga_resnet4b_resnet20_cifar10-pretrained.py',
    './_base_/robust_distill/ard.py',  # defines `ard_distill`
]

model = dict(
    _delete_=True,
    **dict(
        _base_.ard_distill,
        attack=dict(
            type='PGDAttack', eps=2 / 255, alpha=0.5 / 255, steps=10),
        architecture=_base_.model.architecture,
        teacher=_base_.model.teacher,
        teacher_ckpt=_base_.model.teacher_ckpt,
        student_ckpt=_base_.model.student_ckpt))

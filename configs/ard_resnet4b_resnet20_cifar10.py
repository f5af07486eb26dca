# ARD (α = 1, τ = 30): robust resnet4b (L∞ 2/255) → ResNet-20 from scratch,
# CIFAR-10, 1 GPU × 128, trained exactly as kdiga_resnet4b_resnet20_cifar10.py
# (same teacher, 200 epochs of SGD lr 0.1 ×0.1 at epochs 100 and 150, the
# student in the teacher's normalisation, robust validation and test); only
# the algorithm differs. The student's inner maximisation is the -pretrained
# configs': ε = 2/255, step 0.5/255, 10 steps, L∞, the student in eval mode
# while it attacks itself. The other from-scratch robust-distillation
# configs inherit this one. A short run (`compare_methods.py --setting
# scratch --iters N`) fits this schedule into N iterations.
# Measured: not yet (a from-scratch epoch of a method that attacks the
# student every step takes 20–25 minutes of 2 CPU cores).
_base_ = [
    './kdiga_resnet4b_resnet20_cifar10.py',
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
        teacher_ckpt=_base_.model.teacher_ckpt))

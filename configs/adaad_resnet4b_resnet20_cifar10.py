# AdaAD from scratch: ard_resnet4b_resnet20_cifar10.py (same teacher,
# student, 200-epoch schedule, inner-maximisation budget) with the
# algorithm of adaad_resnet4b_resnet20_cifar10-pretrained.py (its header gives
# the formula and the paper's hyper-parameters).
# Measured: not yet.
_base_ = [
    './ard_resnet4b_resnet20_cifar10.py',
    './_base_/robust_distill/adaad.py',  # defines `adaad_distill`
]

model = dict(
    _delete_=True,
    **dict(
        _base_.adaad_distill,
        attack=_base_.model.attack,
        architecture=_base_.model.architecture,
        teacher=_base_.model.teacher,
        teacher_ckpt=_base_.model.teacher_ckpt))

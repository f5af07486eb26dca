# IAD-I from scratch: ard_resnet4b_resnet20_cifar10.py (same teacher,
# student, 200-epoch schedule, inner-maximisation budget) with the
# algorithm of iad_resnet4b_resnet20_cifar10-pretrained.py (its header gives
# the formula); the self-introspection term switches on after the paper's
# warm-up, 60 of the 200 epochs (23,460 iterations; a fitted short run
# scales it with the schedule).
# Measured: not yet.
_base_ = [
    './ard_resnet4b_resnet20_cifar10.py',
    './_base_/robust_distill/iad.py',  # defines `iad_distill`
]

model = dict(
    _delete_=True,
    **dict(
        _base_.iad_distill,
        iad_warmup_iters=60 * _base_.iters_per_epoch,
        attack=_base_.model.attack,
        architecture=_base_.model.architecture,
        teacher=_base_.model.teacher,
        teacher_ckpt=_base_.model.teacher_ckpt))

# KDIGA fine-tuning of a *pre-trained* student (α=0.5, T=1, γ=0.1 per-sample
# L2): robust resnet4b (L∞ 2/255) → standard-trained ResNet-20 (81% clean,
# ~0% PGD-20 @2/255), CIFAR-10, 1 GPU × 128, one epoch, SGD momentum 0.9
# with a one-cycle lr peaking at 0.02, pad-crop + flip.
# γ = 0.1: a per-sample γ of 2 drops clean accuracy to 44% in one epoch,
# 0.1 keeps it (see README "Choosing γ").
# Measured: see README ("Results").
_base_ = [
    './_base_/models/resnet4b_cifar.py',
    './_base_/models/resnet20_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    './_base_/schedules/cifar10_bs128_iter.py',
    './_base_/distill/kdiga.py',
    './_base_/robust_eval/cifar10_linf_2.py',  # defines `robust_eval`
    './_base_/robust_eval/cifar10_linf_2_val.py',  # defines `robust_val`
]
custom_imports = dict(imports=['kdiga_mmrazor'], allow_failed_imports=False)

# Robust validation (clean + PGD-20 @2/255, student and teacher, 1,000
# images) and test (+ AutoAttack): tools/test.py prints and saves the table.
val_cfg = dict(type='RobustValLoop', **_base_.robust_val)
test_cfg = dict(
    type='RobustTestLoop', evaluate_teacher=True, **_base_.robust_eval)
default_hooks = dict(checkpoint=dict(save_best='robust/pgd20_linf_2/acc'))

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=256)
test_dataloader = dict(batch_size=256)

model = dict(
    data_preprocessor=dict(num_classes=10),
    architecture=dict(
        _base_.resnet20_cifar,
        head=dict(
            type='ClsHead',
            loss=dict(type='CrossEntropyLoss', loss_weight=0.5))),
    teacher=_base_.resnet4b_cifar,
    teacher_ckpt='checkpoints/abcrown_resnet4b_linf2.pth',
    student_ckpt='checkpoints/akamaster_resnet20.th',
    distiller=dict(distill_losses=dict(loss_iga=dict(loss_weight=0.1))))

# One epoch (391 iterations at batch 128), one-cycle lr up to 0.02.
train_cfg = dict(max_iters=391, val_interval=391)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    _delete_=True,
    type='OneCycleLR',
    eta_max=0.02,
    total_steps=391,
    by_epoch=False)

# Plain MMRazor KD (α=0.5, τ=1): robust resnet4b (L∞ 2/255) → ResNet-20 from
# scratch, CIFAR-10, 1 GPU × 128, 200 epochs (MMPretrain's CIFAR schedule).
# The student's CE loss is scaled to 1 − α = 0.5 below.
# Measured (4 epochs, CPU, `train_cfg.max_iters=1564`): clean 73.4 | PGD-20
# @2/255 35.9 (1,000 images). Full length: not yet.
#
# SingleTeacherDistill feeds both models the algorithm's preprocessed batch,
# so this config normalises with the teacher's mean/std (the student trains
# from scratch and adopts it; its own data_preprocessor says so, which keeps
# a student exported by tools/model_converters/export_student.py
# self-describing). For each model with its own normalisation, and for
# KDIGA, use KDIGADistill (configs/kdiga_*.py).
# The teacher is loaded strictly through its backbone's init_cfg; MMRazor's
# teacher_ckpt would load this bare checkpoint non-strictly (no key of it
# matches 'backbone.*'), i.e. silently not at all.
_base_ = [
    './_base_/models/resnet4b_cifar.py',
    './_base_/models/resnet20_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    './_base_/schedules/cifar10_bs128_iter.py',
    './_base_/distill/kd.py',
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
    data_preprocessor=dict(
        _base_.resnet4b_cifar.data_preprocessor,
        type='mmpretrain.ClsDataPreprocessor'),
    architecture=dict(
        _base_.resnet20_cifar,
        data_preprocessor=_base_.resnet4b_cifar.data_preprocessor,
        head=dict(
            type='ClsHead',
            loss=dict(type='CrossEntropyLoss', loss_weight=0.5))),
    teacher=dict(
        _base_.resnet4b_cifar,
        backbone=dict(
            type='ResNet4b',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='checkpoints/abcrown_resnet4b_linf2.pth'))))
find_unused_parameters = True

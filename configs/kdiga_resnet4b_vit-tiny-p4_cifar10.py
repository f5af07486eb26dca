# KDIGA across architectures (α=0.5, T=1, γ=0.1 per-sample L2): robust
# resnet4b (CNN, L∞ 2/255) → ViT-Tiny/4 from scratch, CIFAR-10, 1 GPU × 128,
# 200 epochs (AdamW lr 1e-3 with warm-up + cosine, as ViTs need). The
# student's attention runs on SDPA's math kernel while its input gradient is
# taken (KDIGADistill does it; fused kernels have no double backward).
# Measured: not yet measured.
_base_ = [
    './_base_/models/resnet4b_cifar.py',
    './_base_/models/vit-tiny-p4_cifar.py',
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
        _base_.vit_tiny_p4_cifar,
        head=dict(
            type='VisionTransformerClsHead',
            num_classes=10,
            in_channels=192,
            loss=dict(type='CrossEntropyLoss', loss_weight=0.5))),
    teacher=_base_.resnet4b_cifar,
    teacher_ckpt='checkpoints/abcrown_resnet4b_linf2.pth',
    distiller=dict(distill_losses=dict(loss_iga=dict(loss_weight=0.1))))

optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=5,
        end=200,
        convert_to_iter_based=True)
]

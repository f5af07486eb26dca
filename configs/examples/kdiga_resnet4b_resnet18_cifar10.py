# KDIGA added to a config you already have: MMPretrain's stock ResNet-18
# CIFAR-10 config (its model as the student, its data, schedule and runtime
# unchanged) distilled from the robust resnet4b (L∞ 2/255). The student
# keeps the stock config's normalisation (its top-level data_preprocessor:
# mean [125.307, 122.961, 113.8575], std [51.5865, 50.847, 51.255]); the
# teacher keeps its own. α = 0.5, γ = 0.1 (the skeleton's).
# Measured: not yet measured.
_base_ = [
    'mmpretrain::resnet/resnet18_8xb16_cifar10.py',  # student, data, schedule
    '../_base_/models/resnet4b_cifar.py',  # defines `resnet4b_cifar`
    '../_base_/distill/kdiga.py',  # defines `kdiga_distill`
]
custom_imports = dict(imports=['kdiga_mmrazor'], allow_failed_imports=False)
default_hooks = dict(
    divergence_guard=dict(type='DivergenceGuardHook'),
    checkpoint_digest=dict(type='CheckpointDigestHook'))
model = dict(
    _delete_=True,
    **dict(
        _base_.kdiga_distill,
        architecture=_base_.model,
        teacher=_base_.resnet4b_cifar,
        teacher_ckpt='checkpoints/abcrown_resnet4b_linf2.pth'))

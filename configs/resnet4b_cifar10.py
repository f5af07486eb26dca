# resnet4b, L∞ 2/255 adversarially trained (alpha-beta-CROWN zoo), CIFAR-10.
# Evaluate: python tools/test.py configs/resnet4b_cifar10.py \
#     checkpoints/abcrown_resnet4b_linf2.pth
# Measured on the offline JPEG copy: see README ("Model zoo").
_base_ = [
    './_base_/models/resnet4b_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['kdiga_mmrazor'], allow_failed_imports=False)
default_hooks = dict(
    divergence_guard=dict(type='DivergenceGuardHook'),
    checkpoint_digest=dict(type='CheckpointDigestHook'))
model = _base_.resnet4b_cifar
val_dataloader = dict(batch_size=256)
test_dataloader = dict(batch_size=256)

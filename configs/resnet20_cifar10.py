# CIFAR ResNet-20, standard training (akamaster), CIFAR-10.
# Evaluate: python tools/test.py configs/resnet20_cifar10.py \
#     checkpoints/akamaster_resnet20.th
# Measured on the offline JPEG copy: see README ("Model zoo").
_base_ = [
    './_base_/models/resnet20_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['kdiga_mmrazor'], allow_failed_imports=False)
default_hooks = dict(
    divergence_guard=dict(type='DivergenceGuardHook'),
    checkpoint_digest=dict(type='CheckpointDigestHook'))
model = _base_.resnet20_cifar
val_dataloader = dict(batch_size=256)
test_dataloader = dict(batch_size=256)

# PGD adversarial training added to a config you already have: MMPretrain's
# stock ResNet-18 CIFAR-10 config (its model, data, schedule and runtime
# unchanged: 200 epochs, 8 GPUs × 16) trained with PGD-10 at L∞ 8/255
# (step 2/255, random start). The classifier keeps the stock config's
# normalisation (its top-level data_preprocessor: mean [125.307, 122.961,
# 113.8575], std [51.5865, 50.847, 51.255]) inside the attacked model; the
# algorithm's data preprocessor only scales to [0, 1]. Robust validation:
# PGD-20 at 8/255 after each validation (RobustEvalHook, 1,000 images).
# Measured: not yet measured.
_base_ = [
    'mmpretrain::resnet/resnet18_8xb16_cifar10.py',  # model, data, schedule
    '../_base_/adversarial/pgd_at.py',  # defines `pgd_at_training`
]
custom_imports = dict(imports=['kdiga_mmrazor'], allow_failed_imports=False)
default_hooks = dict(
    divergence_guard=dict(type='DivergenceGuardHook'),
    checkpoint_digest=dict(type='CheckpointDigestHook'),
    checkpoint=dict(save_best='robust/pgd20_linf_8/acc'))
custom_hooks = [
    dict(type='RobustEvalHook',
         attacks=[dict(type='PGDAttack', eps=8 / 255, steps=20)])
]
model = dict(
    _delete_=True, **dict(_base_.pgd_at_training, architecture=_base_.model))

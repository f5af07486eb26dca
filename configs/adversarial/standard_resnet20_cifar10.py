# CIFAR ResNet-20 trained without an attack: the standard-trained twin of
# the adversarial-training configs of this folder (each inherits this file
# and changes only `model`), CIFAR-10, 1 GPU × 128, 200 epochs (SGD lr 0.1,
# ×0.1 at epochs 100 and 150). Validation and test: clean and PGD-20 at
# L∞ 8/255 (test: + AutoAttack) on a fixed, class-balanced 1,000-image
# test subset.
# Train: python tools/train.py configs/adversarial/CONFIG
# Test:  python tools/test.py configs/adversarial/CONFIG CKPT \
#            --num-samples 500 --attacks pgd20_linf_8
# Measured (CPU, a ResNet-8 for 200 iterations at batch 128: `--cfg-options
# train_cfg.max_iters=200 train_cfg.val_begin=100000 randomness.seed=0
# model.backbone.depth=8`; tools/test.py `--num-samples 500 --attacks
# pgd20_linf_8`): clean 42.8 | PGD-20 @8/255 2.4. Full length: not yet
# measured.
_base_ = [
    '../_base_/models/resnet20_cifar.py',  # defines `resnet20_cifar`
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    '../_base_/schedules/cifar10_bs128_iter.py',
    '../_base_/runtime/iter_based.py',
    '../_base_/robust_eval/cifar10_linf_8.py',  # defines `robust_eval`
]
custom_imports = dict(imports=['kdiga_mmrazor'], allow_failed_imports=False)

# PGD-20 @8/255 during training (AutoAttack is left to the test)
val_cfg = dict(
    type='RobustValLoop',
    **dict(_base_.robust_eval, attacks=_base_.robust_eval.attacks[:1]))
test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
default_hooks = dict(checkpoint=dict(save_best='robust/pgd20_linf_8/acc'))

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=256)
test_dataloader = dict(batch_size=256)

model = _base_.resnet20_cifar

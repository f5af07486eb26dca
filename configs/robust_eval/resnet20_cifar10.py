# Robust test of the standard (non-robust) CIFAR ResNet-20 (akamaster),
# CIFAR-10, 1,000 test images (100 per class): clean, PGD-20 and AutoAttack
# at L∞ 2/255, PGD-20 at 8/255.
# Run: python tools/test.py configs/robust_eval/resnet20_cifar10.py \
#     checkpoints/akamaster_resnet20.th
# Measured (CPU, seed-0 subset, `--attacks pgd20_linf_2 pgd20_linf_8`):
# clean 82.4 | PGD-20 @2/255 0.2 | PGD-20 @8/255 0.0; AutoAttack not run.
_base_ = [
    '../resnet20_cifar10.py',
    '../_base_/robust_eval/cifar10_linf_2_8.py',  # defines `robust_eval`
]
test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)

# Robust test of the resnet4b teacher (L∞ 2/255 adversarially trained,
# alpha-beta-CROWN zoo), CIFAR-10, 1,000 test images (100 per class):
# clean, PGD-20 and AutoAttack at L∞ 2/255, PGD-20 at 8/255.
# Run: python tools/test.py configs/robust_eval/resnet4b_cifar10.py \
#     checkpoints/abcrown_resnet4b_linf2.pth
# Measured (CPU, seed-0 subset): clean 76.9 | PGD-20 @2/255 62.7 |
# AutoAttack @2/255 61.6 | PGD-20 @8/255 19.0 (15 min on 1 CPU thread).
_base_ = [
    '../resnet4b_cifar10.py',
    '../_base_/robust_eval/cifar10_linf_2_8.py',  # defines `robust_eval`
]
test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)

# Robust evaluation on CIFAR-10 at L∞ 2/255 (the shared resnet4b teacher's
# training threat model): PGD-20 (random start, step 2.5ε/20) and AutoAttack
# (standard) on a fixed, class-balanced 1,000-image test subset (100 per
# class, seed 0).
# Defines `robust_eval` only (the loop's kwargs); mix it into any config:
#   _base_ = [..., './_base_/robust_eval/cifar10_linf_2.py']
#   test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
#   val_cfg = dict(type='RobustValLoop', **_base_.robust_eval)
# (MMPretrain's schedules set val_cfg/test_cfg: defining them here would be
# a duplicate key among the bases.) Or: tools/test.py ... --robust <this>.
robust_eval = dict(
    attacks=[
        dict(type='PGDAttack', eps=2 / 255, norm='linf', steps=20),
        dict(type='AutoAttack', eps=2 / 255, norm='linf',
             version='standard'),
    ],
    num_samples=1000,
    balanced=True,
    seed=0)

# Robust evaluation on ImageNet at L∞ 4/255 (RobustBench's ImageNet threat
# model): PGD-20 (random start, step 2.5ε/20) and AutoAttack (standard) on a
# fixed, class-balanced 1,000-image val subset (1 per class, seed 0).
# RobustBench reports 5,000 images: set num_samples=5000 for comparable
# leaderboard numbers (AutoAttack's cost grows with it).
# Defines `robust_eval` only (the loop's kwargs); mix it into any config:
#   _base_ = [..., './_base_/robust_eval/imagenet_linf_4.py']
#   test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
# Or: tools/test.py ... --robust <this>.
robust_eval = dict(
    attacks=[
        dict(type='PGDAttack', eps=4 / 255, norm='linf', steps=20),
        dict(type='AutoAttack', eps=4 / 255, norm='linf',
             version='standard'),
    ],
    num_samples=1000,
    balanced=True,
    seed=0)

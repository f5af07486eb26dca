# Robust validation during ImageNet training at L∞ 4/255: clean and PGD-20
# (random start, step 2.5ε/20) on a fixed, class-balanced 1,000-image val
# subset, the student and (with its own normalisation) the teacher.
# AutoAttack is left to the test (imagenet_linf_4.py): too slow per epoch.
# Defines `robust_val` only; mix it in with
#   val_cfg = dict(type='RobustValLoop', **_base_.robust_val)
robust_val = dict(
    attacks=[dict(type='PGDAttack', eps=4 / 255, norm='linf', steps=20)],
    num_samples=1000,
    balanced=True,
    seed=0,
    evaluate_teacher=True)

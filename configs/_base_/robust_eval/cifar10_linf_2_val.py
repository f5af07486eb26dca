# Robust validation during CIFAR-10 training at L∞ 2/255: clean and PGD-20
# (random start, step 2.5ε/20) on a fixed, class-balanced 1,000-image test
# subset, the student and (with its own normalisation) the teacher.
# AutoAttack is left to the test (cifar10_linf_2.py): too slow per epoch.
# Defines `robust_val` only; mix it in with
#   val_cfg = dict(type='RobustValLoop', **_base_.robust_val)
#   default_hooks = dict(checkpoint=dict(save_best='robust/pgd20_linf_2/acc'))
robust_val = dict(
    attacks=[dict(type='PGDAttack', eps=2 / 255, norm='linf', steps=20)],
    num_samples=1000,
    balanced=True,
    seed=0,
    evaluate_teacher=True)

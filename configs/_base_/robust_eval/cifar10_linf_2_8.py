# Robust test on CIFAR-10 at L∞ 2/255 and 8/255: clean, PGD-20 and
# AutoAttack (standard) at 2/255, PGD-20 at 8/255, on the fixed,
# class-balanced 1,000-image test subset of cifar10_linf_2.py. The robust
# test of a model zoo entry (configs/robust_eval/).
# Defines `robust_eval` only; mix it in with
#   test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
_base_ = ['./cifar10_linf_2.py']
robust_eval = dict(attacks=[
    dict(type='PGDAttack', eps=2 / 255, norm='linf', steps=20),
    dict(type='AutoAttack', eps=2 / 255, norm='linf', version='standard'),
    dict(type='PGDAttack', eps=8 / 255, norm='linf', steps=20),
])

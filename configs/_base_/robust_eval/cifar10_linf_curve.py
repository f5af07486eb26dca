# Robust accuracy against ε on CIFAR-10, L∞: PGD-20 (random start, step
# 2.5ε/20) at 1, 2, 4 and 8/255 and AutoAttack (standard) at 2 and 8/255,
# on the fixed, class-balanced 1,000-image test subset of
# cifar10_linf_2.py. The points of an ε-curve
# (tools/analysis/gather_robust_results.py draws it); select some with
# tools/test.py --attacks, e.g. the PGD ones on a larger subset and
# AutoAttack on a smaller one.
# Defines `robust_eval` only:
#   tools/test.py CONFIG CKPT \
#       --robust configs/_base_/robust_eval/cifar10_linf_curve.py
_base_ = ['./cifar10_linf_2.py']
robust_eval = dict(attacks=[
    dict(type='PGDAttack', eps=1 / 255, norm='linf', steps=20),
    dict(type='PGDAttack', eps=2 / 255, norm='linf', steps=20),
    dict(type='PGDAttack', eps=4 / 255, norm='linf', steps=20),
    dict(type='PGDAttack', eps=8 / 255, norm='linf', steps=20),
    dict(type='AutoAttack', eps=2 / 255, norm='linf', version='standard'),
    dict(type='AutoAttack', eps=8 / 255, norm='linf', version='standard'),
])

# PGD adversarial training (Madry et al. 2018) of a CIFAR ResNet-20 from
# scratch, CIFAR-10: CE at x' = PGD-10 (L∞ 8/255, step 2/255, random
# start), the attack in eval mode. Schedule, data and evaluation (PGD-20
# and AutoAttack at 8/255) are those of standard_resnet20_cifar10.py, its
# standard-trained twin.
# Measured (CPU, a ResNet-8 for 200 iterations at batch 128: `--cfg-options
# train_cfg.max_iters=200 train_cfg.val_begin=100000 randomness.seed=0
# model.architecture.backbone.depth=8`; tools/test.py `--num-samples 500
# --attacks pgd20_linf_8`): clean 25.6 | PGD-20 @8/255 19.8 (twin: 42.8 | 2.4).
# Full length: not yet measured.
_base_ = [
    './standard_resnet20_cifar10.py',
    '../_base_/adversarial/pgd_at.py',  # defines `pgd_at_training`
]
model = dict(
    _delete_=True,
    **dict(_base_.pgd_at_training, architecture=_base_.resnet20_cifar))

# PGD adversarial training (Madry et al. 2018) of a CIFAR ResNet-20 from
# scratch, CIFAR-10: CE at x' = PGD-10 (L∞ 8/255, step 2/255, random
# start), the attack in eval mode. Schedule, data and evaluation (PGD-20
# and AutoAttack at 8/255) are those of standard_resnet20_cifar10.py, its
# standard-trained twin.
_base_ = [
    './standard_resnet20_cifar10.py',
    '../_base_/adversarial/pgd_at.py',  # defines `pgd_at_training`
]
model = dict(
    _delete_=True,
    **dict(_base_.pgd_at_training, architecture=_base_.resnet20_cifar))

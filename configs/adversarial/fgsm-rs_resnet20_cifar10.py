# FGSM adversarial training with a random start (Wong et al. 2020) of a
# CIFAR ResNet-20 from scratch, CIFAR-10: CE at x + δ, δ one signed step of
# α = 10/255 from δ₀ ~ U(−8/255, 8/255), clipped to the ε-ball and [0, 1],
# the attack in eval mode. Schedule, data and evaluation are those of
# standard_resnet20_cifar10.py, its standard-trained twin (the authors'
# cyclic 15-epoch schedule is not reproduced here).
_base_ = [
    './standard_resnet20_cifar10.py',
    '../_base_/adversarial/fgsm_rs.py',  # defines `fgsm_rs_training`
]
model = dict(
    _delete_=True,
    **dict(_base_.fgsm_rs_training, architecture=_base_.resnet20_cifar))

# TRADES (Zhang et al. 2019, β = 6) of a CIFAR ResNet-20 from scratch,
# CIFAR-10: CE(f(x), y) + β·KL(f(x) ‖ f(x')), x' = PGD-10 on the KL
# (L∞ 8/255, step 2/255, from x + 0.001·N(0, I)), the attack in eval mode.
# Schedule, data and evaluation are those of standard_resnet20_cifar10.py,
# its standard-trained twin. β: --cfg-options model.beta=1.0
_base_ = [
    './standard_resnet20_cifar10.py',
    '../_base_/adversarial/trades.py',  # defines `trades_training`
]
model = dict(
    _delete_=True,
    **dict(_base_.trades_training, architecture=_base_.resnet20_cifar))

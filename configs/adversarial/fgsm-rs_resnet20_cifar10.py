# FGSM adversarial training with a random start (Wong et al. 2020) of a
# CIFAR ResNet-20 from scratch, CIFAR-10: CE at x + δ, δ one signed step of
# α = 10/255 from δ₀ ~ U(−8/255, 8/255), clipped to the ε-ball and [0, 1],
# the attack in eval mode. Schedule, data and evaluation are those of
# standard_resnet20_cifar10.py, its standard-trained twin (the authors'
# cyclic 15-epoch schedule is not reproduced here).
# Measured (CPU, a ResNet-8 for 200 iterations at batch 128: `--cfg-options
# train_cfg.max_iters=200 train_cfg.val_begin=100000 randomness.seed=0
# model.architecture.backbone.depth=8`; tools/test.py `--num-samples 500
# --attacks pgd20_linf_8`): clean 26.4 | PGD-20 @8/255 19.4 (twin: 42.8 | 2.4).
# Full length: not yet measured.
_base_ = [
    './standard_resnet20_cifar10.py',
    '../_base_/adversarial/fgsm_rs.py',  # defines `fgsm_rs_training`
]
model = dict(
    _delete_=True,
    **dict(_base_.fgsm_rs_training, architecture=_base_.resnet20_cifar))

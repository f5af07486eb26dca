# TRADES (Zhang et al. 2019, β = 6) of a CIFAR ResNet-20 from scratch,
# CIFAR-10: CE(f(x), y) + β·KL(f(x) ‖ f(x')), x' = PGD-10 on the KL
# (L∞ 8/255, step 2/255, from x + 0.001·N(0, I)), the attack in eval mode.
# Schedule, data and evaluation are those of standard_resnet20_cifar10.py,
# its standard-trained twin. β: --cfg-options model.beta=1.0
# Measured (CPU, a ResNet-8 for 200 iterations at batch 128: `--cfg-options
# train_cfg.max_iters=200 train_cfg.val_begin=100000 randomness.seed=0
# model.architecture.backbone.depth=8`; tools/test.py `--num-samples 500
# --attacks pgd20_linf_8`): clean 29.8 | PGD-20 @8/255 18.2 (twin: 42.8 | 2.4).
# Full length: not yet measured.
_base_ = [
    './standard_resnet20_cifar10.py',
    '../_base_/adversarial/trades.py',  # defines `trades_training`
]
model = dict(
    _delete_=True,
    **dict(_base_.trades_training, architecture=_base_.resnet20_cifar))

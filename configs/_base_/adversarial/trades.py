# TRADES (Zhang et al. 2019) in MMRazor's model-dict shape:
#   min_θ CE(f_θ(x), y) + β·(1/B)·Σᵢ KL(softmax f_θ(xᵢ) ‖ softmax f_θ(x'ᵢ)),
#   x' = PGD ascending that KL from x + 0.001·N(0, I), x' ∈ B_ε(x) ∩ [0, 1]
# β = 6, L∞ ε = 8/255, step 2/255, 10 steps (yaodongyu/TRADES'
# train_trades_cifar10.py: β = 6, ε = 0.031, step 0.007, 10 steps). The KL
# is summed over classes and averaged over the batch, the repo's
# (1/batch_size)·KLDivLoss(size_average=False). The attack runs in eval mode
# (the repo's model.eval()), the loss in train mode.
# Defines `trades_training` only; experiment configs write
#   model = dict(_base_.trades_training, architecture=...)
# β: --cfg-options model.beta=1.0
trades_training = dict(
    _scope_='mmrazor',
    type='AdversarialTraining',
    method='trades',
    beta=6.0,
    attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    attack_bn='eval')

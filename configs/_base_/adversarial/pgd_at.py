# PGD adversarial training (Madry et al. 2018) in MMRazor's model-dict shape:
#   min_θ E[CE(f_θ(x'), y)],  x' = PGD on CE from a uniform random start,
#   x' ∈ B_ε(x) ∩ [0, 1]
# CIFAR-10 defaults: L∞ ε = 8/255, step 2/255, 10 steps (pixel scale).
# The attack runs with the classifier in eval mode (BatchNorm running
# statistics used, not updated; `attack_bn`), the loss in train mode.
# Defines `pgd_at_training` only (not `model`, so it can sit in `_base_`
# beside a stock MMPretrain config); experiment configs write
#   model = dict(_base_.pgd_at_training, architecture=...)
# No data_preprocessor here: the Runner hands the model the config's
# top-level one, which AdversarialTraining turns into a scale-only one
# (pixels in [0, 1]); the classifier normalises with its own
# data_preprocessor (or, stating none, with the top-level one's mean/std).
pgd_at_training = dict(
    _scope_='mmrazor',
    type='AdversarialTraining',
    method='pgd_at',
    attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    attack_bn='eval')

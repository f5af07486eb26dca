# AdaAD (Huang et al. 2023) in MMRazor's model-dict shape: the student's
# inner maximisation queries the teacher at the moving point.
#   x' = PGD maximising KL(softmax(T(x')) ‖ softmax(S(x'))) from
#        x + 0.001·N(0, I)
#   L  = α·KL(T(x') ‖ S(x')) + (1 − α)·KL(T(x) ‖ S(x)),  α = 1, τ = 1
# ε = 8/255, step 2/255, 10 steps, L∞, attack in eval mode
# (boyellow/AdaAD AT_helper.py; its main.py's argparse defaults are
# --epsilon 16 --step_size 4 in 1/255).
# Defines `adaad_distill` only (not `model`).
adaad_distill = dict(
    _scope_='mmrazor',
    type='RobustDistill',
    method='adaad',
    alpha=1.0,
    tau=1.0,
    attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    attack_bn='eval',
    distiller=dict(type='KDIGADistiller'))

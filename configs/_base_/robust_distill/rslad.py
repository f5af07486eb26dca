# RSLAD (Zi et al. 2021) in MMRazor's model-dict shape: the teacher's clean
# soft labels T(x) in every term.
#   x' = PGD maximising KL(softmax(T(x)) ‖ softmax(S(x'))) from
#        x + 0.001·N(0, I)
#   L  = α·KL(T(x) ‖ S(x')) + (1 − α)·KL(T(x) ‖ S(x)),  α = 5/6, τ = 1
# ε = 8/255, step 2/255, 10 steps, L∞ (zibojia/RSLAD
# resnet18_rslad_cifar10.py), attack in eval mode as in rslad_loss.py.
# Defines `rslad_distill` only (not `model`).
rslad_distill = dict(
    _scope_='mmrazor',
    type='RobustDistill',
    method='rslad',
    alpha=5 / 6,
    tau=1.0,
    attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    attack_bn='eval',
    distiller=dict(type='KDIGADistiller'))

# ARD (Goldblum et al. 2020) in MMRazor's model-dict shape:
#   x' = PGD maximising CE(S(x'), y) from a uniform start in the ε-ball
#   L  = (1 − α)·CE(S(x), y) + α·τ²·KL(softmax(T(x)/τ) ‖ softmax(S(x')/τ))
# α = 1, τ = 30; ε = 8/255, step 2/255, 10 steps, L∞ (the paper's and
# goldblum/AdversariallyRobustDistillation main.py's CIFAR-10 defaults).
# The student attacks itself in eval mode (`attack_bn`; the ARD code keeps
# it in train mode: attack_bn='train_update').
# Defines `ard_distill` only (not `model`); experiment configs write
#   model = dict(_base_.ard_distill, architecture=..., teacher=...,
#                teacher_ckpt=..., student_ckpt=...)
ard_distill = dict(
    _scope_='mmrazor',
    type='RobustDistill',
    method='ard',
    alpha=1.0,
    tau=30.0,
    attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    attack_bn='eval',
    distiller=dict(type='KDIGADistiller'))

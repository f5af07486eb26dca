# IAD-I (Zhu et al. 2022) in MMRazor's model-dict shape: ARD whose student
# also learns from itself where the teacher is unreliable.
#   x' = ARD's (PGD on CE from a uniform start)
#   L  = (1 − α)·CE(S(x), y) + α·τ²·KL(T(x)/τ ‖ S(x')/τ)
#        + α·mean_i (1 − w_i)·KL(S(x_i) ‖ S(x'_i)),  w_i = p_y(T(x'_i))^β
#   (the last term only after `iad_warmup_iters`)
# α = 1, τ = 1, β = 0.1, warm-up 60 of 200 epochs (23460 iterations at 391
# per epoch); ε = 8/255, step 2/255, 10 steps (ZFancy/IAD IAD-I.py).
# Defines `iad_distill` only (not `model`).
iad_distill = dict(
    _scope_='mmrazor',
    type='RobustDistill',
    method='iad',
    alpha=1.0,
    tau=1.0,
    iad_beta=0.1,
    iad_warmup_iters=60 * 391,
    attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    attack_bn='eval',
    distiller=dict(type='KDIGADistiller'))

# FGSM with a random start ("Fast is better than free", Wong et al. 2020)
# in MMRazor's model-dict shape:
#   δ₀ ~ U(−ε, ε),  δ = clip(δ₀ + α·sign(∇_δ CE(f_θ(x + δ₀), y)), −ε, ε),
#   min_θ CE(f_θ(x + δ), y),  x + δ clipped to [0, 1]
# L∞ ε = 8/255, α = 1.25ε = 10/255 (FGSMAttack's default with
# random_start=True; locuslab/fast_adversarial's --epsilon 8 --alpha 10).
# The attack runs in eval mode by default; attack_bn='train_update' keeps
# the model in train mode for it, as the authors' code does.
# Defines `fgsm_rs_training` only; experiment configs write
#   model = dict(_base_.fgsm_rs_training, architecture=...)
fgsm_rs_training = dict(
    _scope_='mmrazor',
    type='AdversarialTraining',
    method='fgsm_rs',
    attack=dict(type='FGSMAttack', eps=8 / 255, random_start=True),
    attack_bn='eval')

# IGDM (Lee et al. 2023), the plug-in term for any of ARD, RSLAD, IAD,
# AdaAD: with δ = x' − x the method's own adversarial perturbation,
#   + λ·r_t·KL(softmax(T(x+δ) − T(x−δ)) ‖ softmax(S(x+δ) − S(x−δ)))
# r_t = min(1, (t + 1)/R) ramps the weight up over R iterations
# (`igdm_ramp_iters`; None: the whole run, as the code's epoch/200).
# λ = 1, the authors' CIFAR-10 value (HongsinLee/saad saad.py; igdm.py).
# Defines `igdm` only: keys to add to a method's model dict,
#   model = dict(_base_.ard_distill, **_base_.igdm, ...)
igdm = dict(igdm_weight=1.0, igdm_ramp_iters=None)

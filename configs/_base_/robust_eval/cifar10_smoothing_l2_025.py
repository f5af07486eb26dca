# Certified L2 robustness on CIFAR-10 by randomized smoothing at noise
# sigma = 0.25 (Cohen, Rosenfeld & Kolter 2019, "Certified Adversarial
# Robustness via Randomized Smoothing"): their CERTIFY with n0 = 100
# selection and n = 100,000 estimation draws, alpha = 0.001, 1,000 noisy
# copies per forward, on a fixed, class-balanced 500-image test subset (50
# per class, seed 0; the paper certifies 500 test images too). Reports
# robust/smooth_l2_sigma0.25/certified_acc_r{0,0.25,0.5,0.75} (radius >= r,
# abstentions wrong), .../smoothed_acc and .../abstain beside the clean
# accuracy; no attacks. With n = 100,000 no radius above
# 0.25 * Phi^-1(0.001^(1/100000)) = 0.953 can be certified (hence no 1.0).
# Every image costs 100,100 forward passes: hours on a GPU; try it first
# with --num-samples 100 --cfg-options test_cfg.certification.0.n=1000
# (certifies up to 0.616, so r0.75 is 0 and a warning says so).
# The base classifier is used as it is: train it under the same Gaussian
# noise for useful numbers. Defines `robust_eval` only; mix it in with
#   test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
# or: tools/test.py CONFIG CKPT --robust <this file>.
robust_eval = dict(
    attacks=[],
    certification=[
        dict(
            type='RandomizedSmoothing',
            sigma=0.25,
            n0=100,
            n=100000,
            alpha=0.001,
            batch_size=1000,
            radii=(0.0, 0.25, 0.5, 0.75),
            seed=0),
    ],
    num_samples=500,
    balanced=True,
    seed=0)

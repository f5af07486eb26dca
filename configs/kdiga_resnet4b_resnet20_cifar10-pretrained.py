# KDIGA fine-tuning of a *pre-trained* student (α=0.5, T=1, γ=0.1 per-sample
# L2): robust resnet4b (L∞ 2/255) → standard-trained ResNet-20 (81% clean,
# ~0% PGD-20 @2/255), CIFAR-10, 1 GPU × 128, one epoch, SGD momentum 0.9
# with a one-cycle lr peaking at 0.02, pad-crop + flip. Teacher and student
# each keep their own normalisation.
# γ = 0.1: the largest of {0.03, 0.1, 0.3, 1} keeping ≥ 78% clean after one
# epoch (README, "Choosing γ": 84.2/41.6, 80.0/50.9, 74.7/55.0, 66.3/51.0
# clean/PGD-20 @2/255 on 1,000 images).
# Measured (1 epoch, CPU): clean 79.4 (full test split) | PGD-20 @2/255 49.9
# (1,000 images); rerun 80.0 | 50.9; plain KD twin 85.2 | 6.9.
_base_ = ['./kdiga_resnet4b_resnet20_cifar10.py']

model = dict(
    architecture=dict(
        data_preprocessor=_base_.resnet20_cifar.data_preprocessor),
    student_ckpt='checkpoints/akamaster_resnet20.th')

# One epoch (391 iterations at batch 128), one-cycle lr up to 0.02.
train_cfg = dict(max_iters=391, val_interval=391)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    _delete_=True,
    type='OneCycleLR',
    eta_max=0.02,
    total_steps=391,
    by_epoch=False)

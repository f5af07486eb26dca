# MMPretrain's CIFAR-10 schedule made iteration-based, so that
# `--cfg-options train_cfg.max_iters=N` shortens a run. 391 iterations = one
# epoch of 50,000 images at batch 128: 200 epochs, SGD lr 0.1, ×0.1 at
# epochs 100 and 150, as mmpretrain::_base_/schedules/cifar10_bs128.py.
# Defines the schedule keys (optim_wrapper, param_scheduler, train_cfg,
# val_cfg, test_cfg, auto_scale_lr) and `iters_per_epoch`; pair it with
# ../runtime/iter_based.py.
_base_ = ['mmpretrain::_base_/schedules/cifar10_bs128.py']
iters_per_epoch = 391
train_cfg = dict(
    _delete_=True,
    by_epoch=False,
    max_iters=200 * iters_per_epoch,
    val_interval=iters_per_epoch)
param_scheduler = dict(convert_to_iter_based=True)

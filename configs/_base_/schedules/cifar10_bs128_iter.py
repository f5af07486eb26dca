# MMPretrain's CIFAR-10 schedule and runtime, made iteration-based so that
# `--cfg-options train_cfg.max_iters=N` shortens a run. 391 iterations = one
# epoch of 50,000 images at batch 128: 200 epochs, SGD lr 0.1, ×0.1 at
# epochs 100 and 150, as mmpretrain::_base_/schedules/cifar10_bs128.py.
# (Bases in one list may not share keys, hence schedule + runtime here.)
_base_ = [
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]
iters_per_epoch = 391
train_cfg = dict(
    _delete_=True,
    by_epoch=False,
    max_iters=200 * iters_per_epoch,
    val_interval=iters_per_epoch)
param_scheduler = dict(convert_to_iter_based=True)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=False),
    checkpoint=dict(
        by_epoch=False, interval=iters_per_epoch, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)

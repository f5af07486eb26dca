# MMPretrain's default runtime for iteration-based runs: logs by iteration
# every 10 iterations (an ETA within seconds on a CPU), keeps the last three
# checkpoints, one per 391 iterations (a CIFAR-10 epoch at batch 128), and
# stops a run at the first non-finite loss, gradient norm or weight
# (DivergenceGuardHook, a default hook so a config's own custom_hooks list
# never drops it; `default_hooks.divergence_guard=None` turns it off), and
# records a digest of the weights in every checkpoint it saves, which every
# load checks (CheckpointDigestHook).
# Defines the runtime keys (default_scope, default_hooks, env_cfg,
# log_processor, visualizer, ...).
_base_ = ['mmpretrain::_base_/default_runtime.py']
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=391, max_keep_ckpts=3),
    divergence_guard=dict(type='DivergenceGuardHook'),
    checkpoint_digest=dict(type='CheckpointDigestHook'))
log_processor = dict(by_epoch=False)

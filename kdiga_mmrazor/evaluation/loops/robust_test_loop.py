"""Testing under attack: :class:`RobustValLoop` with the test hooks."""
from mmengine.registry import LOOPS

from .robust_val_loop import RobustValLoop


@LOOPS.register_module()
class RobustTestLoop(RobustValLoop):
    """:class:`RobustValLoop` for ``runner.test()``.

    Same arguments, metrics and behaviour; it calls the test hooks
    (``before_test``, ``before_test_epoch``, ``before_test_iter``/
    ``after_test_iter``, ``after_test_epoch(metrics)``, ``after_test``, as
    MMEngine's ``TestLoop.run``) and the model's ``test_step``.
    ``tools/test.py`` writes its :meth:`result_record` as Markdown, JSON
    and CSV into the work dir.

    Example:
        >>> # in a config whose _base_ has
        >>> # './_base_/robust_eval/cifar10_linf_2.py':
        >>> test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
    """
    stage = 'test'

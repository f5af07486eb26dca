"""Testing under attack: :class:`RobustValLoop` with the test hooks."""
from typing import Dict

from mmengine.registry import LOOPS

from .robust_val_loop import RobustValLoop


@LOOPS.register_module()
class RobustTestLoop(RobustValLoop):
    """:class:`RobustValLoop` for ``runner.test()``.

    Same arguments, metrics and behaviour; it calls the test hooks
    (``before_test``, ``before_test_epoch``, ``before_test_iter``/
    ``after_test_iter``, ``after_test_epoch(metrics)``, ``after_test``, as
    MMEngine's ``TestLoop.run``), the model's ``test_step``, and logs its
    losses under ``test/``. ``tools/test.py`` writes its
    :meth:`result_record` as Markdown, JSON and CSV into the work dir.

    Example:
        >>> # in a config whose _base_ has
        >>> # './_base_/robust_eval/cifar10_linf_2.py':
        >>> test_cfg = dict(type='RobustTestLoop', **_base_.robust_eval)
    """
    stage = 'test'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.test_loss: Dict = {}

    def model_step(self, data_batch: Dict) -> list:
        """The model's ``test_step``."""
        return self.runner.model.test_step(data_batch)

    @property
    def loss_buffer(self) -> dict:
        return self.test_loss

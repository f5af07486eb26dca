"""A recorder that ``KDIGADistill`` fills with what it computes itself."""
from typing import Optional

from mmrazor.models.task_modules.recorder.base_recorder import BaseRecorder
from mmrazor.registry import TASK_UTILS
from torch import nn

SOURCES = ('logits', 'input_grad')


@TASK_UTILS.register_module()
class KDIGAOutputsRecorder(BaseRecorder):
    r"""Tensors of one KDIGA step, recorded for ``loss_forward_mappings``.

    MMRazor's recorders hook modules; these two quantities are not a
    module's output, so ``KDIGADistill`` writes them here once per step:

    * ``source='logits'``: :math:`z_m = f_m(\mathrm{norm}_m(x))`, the
      model's logits on the pixel-space batch (any classifier: no module
      path to know);
    * ``source='input_grad'``: :math:`g_m = \nabla_x \mathrm{CE}(z_m, y)`
      per sample, in pixel space (``[0, 1]`` scale), fp32. The student's
      stays in the graph (``create_graph=True``); the teacher's is detached.

    Args:
        source (str): ``'logits'`` or ``'input_grad'``.

    Example:
        >>> student_recorders=dict(
        ...     logits=dict(type='KDIGAOutputs', source='logits'),
        ...     input_grad=dict(type='KDIGAOutputs', source='input_grad'))
    """

    def __init__(self, source: str) -> None:
        if source not in SOURCES:
            raise ValueError(f'KDIGAOutputsRecorder: source must be one of '
                             f'{SOURCES}, got {source!r}')
        super().__init__(source)

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Nothing to hook: the algorithm calls :meth:`record`."""

    def record(self, data) -> None:
        """Store one step's tensor (the buffer is reset on context entry).
        """
        self.data_buffer.append(data)

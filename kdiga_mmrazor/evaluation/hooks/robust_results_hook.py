"""The robust result table written at the end of a robust test."""
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...checkpoint import file_sha256
from ..tables import report_results

# runtime info of the message hub that names the tested checkpoint
CHECKPOINT_INFO = 'robust_results/checkpoint'


@HOOKS.register_module()
class RobustResultsHook(Hook):
    """Write ``robust_results.{md,json,csv}`` after a robust test.

    After ``runner.test()`` with a ``RobustTestLoop``, or with a
    :class:`RobustEvalHook` that evaluates after tests, the record of that
    evaluation (metrics, one row per model, attack settings, subset digest,
    library versions) and the tested checkpoint (path and sha256: the
    message hub's ``robust_results/checkpoint`` info that
    ``tools/test.py`` sets, else the config's ``load_from``) is logged as a
    Markdown table and written into the work dir, on rank 0.

    Args:
        out_dir (str, optional): Where to write. Defaults to the work dir.
        model_name (str, optional): Row label. Defaults to the config's
            file name.

    Example:
        >>> custom_hooks = [dict(type='RobustResultsHook')]
    """
    priority = 'LOW'  # after the evaluation hooks

    def __init__(self,
                 out_dir: Optional[str] = None,
                 model_name: Optional[str] = None) -> None:
        self.out_dir = out_dir
        self.model_name = model_name
        self.paths: Optional[Dict[str, str]] = None

    def _record(self, runner) -> Optional[Dict]:
        """The record of this test: the robust test loop's, else that of a
        hook that evaluated after the test."""
        loop = runner.test_loop
        if hasattr(loop, 'result_record'):
            return loop.result_record(self.model_name)
        for hook in runner.hooks:
            if getattr(hook, 'last_stage', None) == 'test':
                return hook.result_record(self.model_name)
        return None

    @staticmethod
    def _checkpoint(runner) -> Optional[Dict]:
        info = runner.message_hub.get_info(CHECKPOINT_INFO)
        if info is not None:
            return dict(info)
        path = runner.cfg.get('load_from')
        if path and osp.isfile(path):
            return dict(path=path, sha256=file_sha256(path))
        return None

    def after_test_epoch(self, runner, metrics=None) -> None:
        record = self._record(runner)
        if record is None or not is_main_process():
            return
        record.update(
            config=getattr(runner.cfg, 'filename', None),
            checkpoint=self._checkpoint(runner))
        self.paths = report_results(record, self.out_dir or runner.work_dir)

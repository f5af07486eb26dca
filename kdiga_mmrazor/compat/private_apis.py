"""Every private upstream API this package touches, in one place.

Each entry names the upstream object, where the package uses it and why,
the versions it was checked against, and a check that fails loudly when an
upstream release changes it (``tests/test_compat/test_private_apis.py``
runs them all; :func:`check_private_apis` runs them for a user's own
environment). Checked against torch 2.14.1, numpy 2.4, mmengine 0.10.7,
mmpretrain 1.2.0, mmrazor 1.0.0 and pyautoattack 0.2.0.

========================================  ==================================
upstream private API                      used by (what for)
========================================  ==================================
``torch._C._will_engine_execute_node``    ops.double_backward.engine (skip
                                          gradients nobody reads)
``mmengine.runner.loops._parse_losses``,  evaluation.loops (val/test losses
``_update_losses``                        as MMEngine's loops log them)
``mmengine.dist.utils._init_dist_pytorch`` compat.cpu_distributed (gloo DDP
                                          without a GPU)
``HistoryBuffer._statistics_methods``     checkpoint.safe_load (allow-list
                                          of ``--resume`` pickles)
``BaseDataPreprocessor._enable_normalize`` utils.pixel_space,
                                          models.algorithms (pixel space)
``BaseModule._is_init``                   checkpoint.strict_load (strict
                                          ``init_cfg`` loading)
``ClsHead._get_loss``                     models.algorithms.kdiga_distill
                                          (CE from logits already computed)
``BaseRecorder._data_buffer``             models.algorithms.kdiga_distill
                                          (recorders fed by the algorithm)
``mmrazor.structures.quantization``       compat.mmrazor_quantization
(replaced when it fails to import)        (``import mmrazor.models``)
pyautoattack ``AutoAttack.apgd``,         attacks.autoattack (iterations,
``apgd_targeted``, ``fab``, ``square``,   restarts, target classes,
``attacks_to_run``; APGD's ``n_iter*``,   queries; its log)
``size_decr``; logger ``auto-attack``
numpy ``_core.multiarray._reconstruct``   checkpoint.safe_load (numpy arrays
                                          in MMEngine checkpoints)
``torch._weights_only_unpickler``         checkpoint.pickle_scan (is a global
``._get_allowed_globals``,                a refused pickle names one torch
``._get_user_allowed_globals``            would refuse?)
stdlib ``_compat_pickle`` mappings        checkpoint.pickle_scan (Python 2
                                          names of protocol 0-2 globals)
``mmengine.config.Config._merge_a_into_b`` engine.config_checks (a replaced
(wrapped while a config file loads)       teacher never merges with its
                                          base's)
mmrazor ``SingleTeacherDistill``          models.algorithms (teacher_ckpt
(``__init__`` arguments; its registry     loaded strictly, ``alpha``)
entry replaced by a subclass)
========================================  ==================================
"""
import inspect
from typing import Callable, Dict, List, NamedTuple


class PrivateAPI(NamedTuple):
    """One private upstream API: what it is, who uses it, its check."""
    name: str
    used_by: str
    check: Callable[[], None]


def _params(fn) -> List[str]:
    return list(inspect.signature(fn).parameters)


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def _torch_engine() -> None:
    import torch
    fn = getattr(torch._C, '_will_engine_execute_node', None)
    _expect(callable(fn), 'torch._C._will_engine_execute_node is gone')


def _mmengine_losses() -> None:
    from mmengine.runner import loops
    _expect(_params(loops._parse_losses) == ['losses', 'stage'],
            'mmengine.runner.loops._parse_losses(losses, stage) changed')
    _expect(_params(loops._update_losses) == ['outputs', 'losses'],
            'mmengine.runner.loops._update_losses(outputs, losses) changed')


def _mmengine_init_dist() -> None:
    from mmengine.dist import utils
    fn = getattr(utils, '_init_dist_pytorch', None)
    _expect(callable(fn) and _params(fn)[:1] == ['backend'],
            'mmengine.dist.utils._init_dist_pytorch(backend, ...) changed')


def _history_buffer() -> None:
    from mmengine.logging import HistoryBuffer
    methods = getattr(HistoryBuffer, '_statistics_methods', None)
    _expect(isinstance(methods, dict)
            and callable(getattr(HistoryBuffer, 'statistics', None)),
            'mmengine HistoryBuffer._statistics_methods (the registered '
            'statistics) is not a dict')


def _enable_normalize() -> None:
    from mmpretrain.models import ClsDataPreprocessor
    on = ClsDataPreprocessor(mean=[0.0], std=[1.0])
    off = ClsDataPreprocessor()
    _expect(
        getattr(on, '_enable_normalize', None) is True
        and getattr(off, '_enable_normalize', None) is False,
        'ClsDataPreprocessor._enable_normalize no longer says whether it '
        'normalises')


def _is_init() -> None:
    from mmengine.model import BaseModule
    module = BaseModule()
    _expect(getattr(module, '_is_init', None) is False,
            'mmengine BaseModule._is_init is gone')


def _cls_head_get_loss() -> None:
    from mmpretrain.models.heads import ClsHead
    _expect(
        _params(ClsHead._get_loss)[:3] == ['self', 'cls_score',
                                           'data_samples'],
        'mmpretrain ClsHead._get_loss(cls_score, data_samples) changed')


def _recorder_buffer() -> None:
    from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
    recorder = ModuleOutputsRecorder('head')
    _expect(
        isinstance(getattr(recorder, '_data_buffer', None), list)
        and recorder.data_buffer is recorder._data_buffer,
        'mmrazor BaseRecorder._data_buffer is no longer the list behind '
        'data_buffer')


def _mmrazor_quantization() -> None:
    import importlib.util
    _expect(
        importlib.util.find_spec('mmrazor.structures') is not None,
        'mmrazor.structures is gone')


def _pyautoattack() -> None:
    import torch
    from pyautoattack import AutoAttack
    from pyautoattack import autoattack as module
    adversary = AutoAttack(
        torch.nn.Identity(), norm='Linf', eps=0.1, version='standard',
        device=torch.device('cpu'))
    for attr in ('apgd', 'apgd_targeted', 'fab', 'square', 'attacks_to_run'):
        _expect(hasattr(adversary, attr), f'pyautoattack AutoAttack.{attr} '
                'is gone')
    for attr in ('n_iter', 'n_iter_orig', 'n_iter_2', 'n_iter_min',
                 'size_decr', 'n_restarts'):
        _expect(hasattr(adversary.apgd, attr),
                f'pyautoattack APGDAttack.{attr} is gone')
    _expect(hasattr(adversary.apgd_targeted, 'n_target_classes')
            and hasattr(adversary.fab, 'n_target_classes')
            and hasattr(adversary.square, 'n_queries'),
            'pyautoattack n_target_classes / n_queries attributes are gone')
    _expect("getLogger('auto-attack')" in inspect.getsource(module),
            "pyautoattack no longer logs to logger 'auto-attack'")


def _numpy_reconstruct() -> None:
    import numpy as np
    multiarray = getattr(np, '_core', None) or np.core
    _expect(callable(getattr(multiarray.multiarray, '_reconstruct', None)),
            'numpy _core.multiarray._reconstruct is gone')


def _weights_only_globals() -> None:
    from torch import _weights_only_unpickler as unpickler
    for name in ('_get_allowed_globals', '_get_user_allowed_globals'):
        fn = getattr(unpickler, name, None)
        _expect(callable(fn) and isinstance(fn(), dict),
                f'torch._weights_only_unpickler.{name}() no longer returns '
                'a dict of allowed globals')
    _expect('torch._utils._rebuild_tensor_v2'
            in unpickler._get_allowed_globals(),
            'torch._weights_only_unpickler._get_allowed_globals() is no '
            "longer keyed by 'module.name'")


def _compat_pickle_mappings() -> None:
    from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
    _expect(IMPORT_MAPPING.get('__builtin__') == 'builtins'
            and isinstance(NAME_MAPPING, dict),
            "_compat_pickle.IMPORT_MAPPING no longer maps '__builtin__'")


def _config_merge() -> None:
    from mmengine.config import Config
    merge = Config.__dict__.get('_merge_a_into_b')
    _expect(isinstance(merge, staticmethod)
            and _params(merge.__func__)[:3] == ['a', 'b', 'allow_list_keys'],
            'Config._merge_a_into_b is no longer a staticmethod '
            '(a, b, allow_list_keys)')


def _single_teacher_distill() -> None:
    from mmrazor.models.algorithms import SingleTeacherDistill
    _expect(
        _params(SingleTeacherDistill.__init__)[1:4] ==
        ['distiller', 'teacher', 'teacher_ckpt'],
        'SingleTeacherDistill.__init__ no longer takes (distiller, teacher, '
        'teacher_ckpt, ...)')


PRIVATE_APIS = (
    PrivateAPI('torch._C._will_engine_execute_node',
               'ops.double_backward.engine', _torch_engine),
    PrivateAPI('mmengine.runner.loops._parse_losses/_update_losses',
               'evaluation.loops', _mmengine_losses),
    PrivateAPI('mmengine.dist.utils._init_dist_pytorch',
               'compat.cpu_distributed', _mmengine_init_dist),
    PrivateAPI('mmengine.logging.HistoryBuffer._statistics_methods',
               'checkpoint.safe_load', _history_buffer),
    PrivateAPI('BaseDataPreprocessor._enable_normalize',
               'utils.pixel_space, models.algorithms', _enable_normalize),
    PrivateAPI('mmengine.model.BaseModule._is_init',
               'checkpoint.strict_load', _is_init),
    PrivateAPI('mmpretrain ClsHead._get_loss',
               'models.algorithms.kdiga_distill', _cls_head_get_loss),
    PrivateAPI('mmrazor BaseRecorder._data_buffer',
               'models.algorithms.kdiga_distill', _recorder_buffer),
    PrivateAPI('mmrazor.structures.quantization',
               'compat.mmrazor_quantization', _mmrazor_quantization),
    PrivateAPI('pyautoattack AutoAttack internals',
               'attacks.autoattack', _pyautoattack),
    PrivateAPI('numpy _core.multiarray._reconstruct',
               'checkpoint.safe_load', _numpy_reconstruct),
    PrivateAPI('torch._weights_only_unpickler allowed globals',
               'checkpoint.pickle_scan', _weights_only_globals),
    PrivateAPI('stdlib _compat_pickle mappings', 'checkpoint.pickle_scan',
               _compat_pickle_mappings),
    PrivateAPI('mmengine Config._merge_a_into_b', 'engine.config_checks',
               _config_merge),
    PrivateAPI('mmrazor SingleTeacherDistill registry entry',
               'models.algorithms.single_teacher_distill',
               _single_teacher_distill),
)


def check_private_apis() -> Dict[str, str]:
    """Run every check; ``{name: what changed}`` for those that fail
    (empty when the installed versions behave as checked)."""
    failed = {}
    for api in PRIVATE_APIS:
        try:
            api.check()
        except Exception as error:  # noqa: BLE001 (report every change)
            failed[api.name] = f'{type(error).__name__}: {error} (used by ' \
                               f'kdiga_mmrazor.{api.used_by})'
    return failed

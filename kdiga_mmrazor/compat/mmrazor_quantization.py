"""Make ``import mmrazor.models`` work on torch >= 2.

MMRazor 1.0.0 imports its quantization structures
(``mmrazor.structures.quantization``) unconditionally, and on torch >= 2 that
sub-package crashes the import of ``mmrazor.structures`` and with it
``mmrazor.models`` and ``mmrazor.engine`` (upstream open-mmlab/mmrazor#632,
unfixed): it reads fuser helpers and ``BackendPatternConfig`` methods that
newer torch removed.

:func:`patch_mmrazor_quantization` tries the real import first and changes
nothing when it works. Only when it fails does it put a stand-in module in
``sys.modules`` under the same name, whose public names raise
:class:`MMRazorQuantizationUnavailable` as soon as they are used. Nothing
else in MMRazor is touched: distillation, recorders, losses and the engine
load from the installed package as they are.
"""
import importlib
import sys
import types
from typing import Any, NoReturn, Optional

QUANT_MODULE = 'mmrazor.structures.quantization'
UPSTREAM_ISSUE = 'https://github.com/open-mmlab/mmrazor/issues/632'

# Public names of ``mmrazor.structures.quantization`` (and its
# ``backend_config`` / ``qconfig`` modules) in MMRazor 1.0.0.
QUANT_NAMES = (
    'BackendConfigs', 'QConfigHandler', 'QSchemeHandler',
    'get_native_backend_config', 'get_native_backend_config_dict',
    'get_academic_backend_config', 'get_academic_backend_config_dict',
    'get_openvino_backend_config', 'get_openvino_backend_config_dict',
    'get_tensorrt_backend_config', 'get_tensorrt_backend_config_dict')

# Config entry points of MMRazor quantization (registry, names). On a torch
# where the sub-package does not import they fail deep inside with
# "`torch>=1.13` is not installed properly"; the shim re-registers them as
# stand-ins that raise its own message instead.
QUANT_ENTRY_POINTS = (
    ('MODELS', ('MMArchitectureQuant', 'MMArchitectureQuantDDP',
                'TorchNativeQuantizer', 'OpenVINOQuantizer',
                'TensorRTQuantizer', 'AcademicQuantizer')),
    ('LOOPS', ('PTQLoop', 'QATEpochBasedLoop', 'QATValLoop',
               'LSQEpochBasedLoop')),
)

_import_error: Optional[BaseException] = None


class MMRazorQuantizationUnavailable(ImportError):
    """Raised when MMRazor quantization is used on a torch it cannot
    import on."""


def _raise_unavailable(name: str) -> NoReturn:
    import torch
    raise MMRazorQuantizationUnavailable(
        f'mmrazor.structures.quantization.{name} is unavailable: MMRazor '
        f'1.0.0 quantization does not import on torch {torch.__version__} '
        f'({type(_import_error).__name__}: {_import_error}; see '
        f'{UPSTREAM_ISSUE}). kdiga_mmrazor disabled it so that '
        'distillation works; for MMRazor quantization use torch 1.13.')


class _UnavailableMeta(type):

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith('__'):
            raise AttributeError(attr)
        _raise_unavailable(f'{cls.__name__}.{attr}')

    def __getitem__(cls, key: Any) -> NoReturn:
        _raise_unavailable(f'{cls.__name__}[{key!r}]')

    def __call__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        _raise_unavailable(cls.__name__)


def _unavailable(name: str) -> type:
    return _UnavailableMeta(name, (), {'__module__': QUANT_MODULE})


def _stand_in_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name, 'Stand-in: see kdiga_mmrazor.compat.')
    module.__path__ = []  # a package, so sub-module imports resolve here
    module.__all__ = list(QUANT_NAMES)
    for public in QUANT_NAMES:
        setattr(module, public, _unavailable(public))
    module.QUANTIZATION_IMPORT_ERROR = _import_error
    return module


def quantization_available() -> bool:
    """Whether the real MMRazor quantization sub-package imported."""
    patch_mmrazor_quantization()
    return _import_error is None


def patch_mmrazor_quantization() -> None:
    """Import MMRazor's quantization structures, or stand in for them.

    Idempotent. Must run before anything imports ``mmrazor.structures``
    (``kdiga_mmrazor/__init__.py`` calls it first).
    """
    global _import_error
    if QUANT_MODULE in sys.modules:
        return
    try:
        importlib.import_module(QUANT_MODULE)
        return
    except Exception as error:  # the real import failed: stand in for it
        _import_error = error
    for name in list(sys.modules):
        if name == 'mmrazor.structures' or name.startswith(QUANT_MODULE):
            del sys.modules[name]
    stand_in = _stand_in_module(QUANT_MODULE)
    sys.modules[QUANT_MODULE] = stand_in
    for sub in ('backend_config', 'qconfig'):
        sys.modules[f'{QUANT_MODULE}.{sub}'] = _stand_in_module(
            f'{QUANT_MODULE}.{sub}')
    importlib.import_module('mmrazor.structures')
    _guard_entry_points()


def _guard_entry_points() -> None:
    importlib.import_module('mmrazor.models')
    importlib.import_module('mmrazor.engine')
    registries = importlib.import_module('mmrazor.registry')
    for registry_name, names in QUANT_ENTRY_POINTS:
        registry = getattr(registries, registry_name)
        for name in names:
            if name in registry.module_dict:
                registry.register_module(
                    name=name, module=_unavailable(name), force=True)

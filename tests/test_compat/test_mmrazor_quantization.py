"""The torch >= 2 shim for ``mmrazor.structures.quantization``."""
import importlib
import sys
import types

import pytest

from kdiga_mmrazor.compat import mmrazor_quantization as shim


def test_quantization_names_fail_clearly_when_used():
    if shim.quantization_available():
        pytest.skip('this torch imports MMRazor quantization natively')
    from mmrazor.structures.quantization import BackendConfigs, QConfigHandler
    with pytest.raises(shim.MMRazorQuantizationUnavailable,
                       match=r'BackendConfigs\[.native.\].*torch .*'
                       r'mmrazor/issues/632'):
        BackendConfigs['native']
    with pytest.raises(ImportError, match='QConfigHandler is unavailable'):
        QConfigHandler(dict())


@pytest.mark.parametrize('cfg', [
    dict(type='MMArchitectureQuant', architecture=dict()),
    dict(type='TorchNativeQuantizer', global_qconfig=dict()),
])
def test_quantization_configs_fail_with_the_shim_message(cfg):
    if shim.quantization_available():
        pytest.skip('this torch imports MMRazor quantization natively')
    from mmrazor.registry import MODELS
    with pytest.raises(ImportError, match=f"{cfg['type']} is unavailable"):
        MODELS.build(dict(cfg, _scope_='mmrazor'))


def test_distillation_parts_of_mmrazor_are_the_real_ones():
    from mmrazor.models import ConfigurableDistiller, SingleTeacherDistill
    assert SingleTeacherDistill.__module__.startswith('mmrazor.models')
    assert ConfigurableDistiller.__module__.startswith('mmrazor.models')


def test_shim_changes_nothing_when_the_real_import_works(monkeypatch):
    real = types.ModuleType(shim.QUANT_MODULE)
    imported = []

    def fake_import(name):
        imported.append(name)
        sys.modules[name] = real
        return real

    monkeypatch.delitem(sys.modules, shim.QUANT_MODULE, raising=False)
    monkeypatch.setattr(importlib, 'import_module', fake_import)
    monkeypatch.setattr(shim, '_import_error', None)
    shim.patch_mmrazor_quantization()
    assert imported == [shim.QUANT_MODULE]
    assert sys.modules[shim.QUANT_MODULE] is real
    assert shim._import_error is None

"""The plugin imports, runs MMRazor on torch >= 2, and registers itself."""
import subprocess
import sys

from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS


def test_plugin_and_mmrazor_import_together_in_a_fresh_interpreter():
    code = ('import kdiga_mmrazor, mmrazor.models, mmrazor.engine; '
            'print(mmrazor.models.SingleTeacherDistill.__name__)')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip().endswith('SingleTeacherDistill')


def test_backbones_are_registered_in_mmpretrain():
    for name in ('ResNet4b', 'CifarResNet'):
        assert MMPRETRAIN_MODELS.get(name) is not None, name


def test_custom_imports_in_a_config_registers_the_plugin(tmp_path):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("custom_imports = dict(imports=['kdiga_mmrazor'], "
                   'allow_failed_imports=False)\n'
                   "model = dict(type='ResNet4b')\n")
    code = ('from mmengine.config import Config; '
            'from mmengine.utils import import_modules_from_strings; '
            f'c = Config.fromfile({str(cfg)!r}); '
            'import_modules_from_strings(**c.custom_imports); '
            'from mmpretrain.registry import MODELS; '
            'print(type(MODELS.build(c.model)).__name__)')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip().endswith('ResNet4b')

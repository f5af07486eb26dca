"""The repository's shape: tests mirror the package, modules stay small,
experiment configs follow the naming scheme."""
import glob
import os.path as osp
import re

from .conftest import REPO

PACKAGE = osp.join(REPO, 'kdiga_mmrazor')
MAX_LINES = 400
CONFIG_NAME = re.compile(
    r'^(kd|kdiga)(-[a-z0-9]+)?_[a-z0-9-]+_[a-z0-9-]+_(cifar10|imagenet)'
    r'(-[a-z0-9-]+)?\.py$')


def _modules():
    for path in sorted(glob.glob(osp.join(PACKAGE, '**', '*.py'),
                                 recursive=True)):
        if osp.basename(path) != '__init__.py':
            yield osp.relpath(path, PACKAGE)


def mirrored_test(module: str) -> str:
    """``a/b/c.py`` → ``tests/test_a/test_b/test_c.py``."""
    parts = module.split(osp.sep)
    return osp.join('tests', *[f'test_{p}' for p in parts])


def test_mirrored_test_path_of_a_module():
    assert mirrored_test(osp.join('ops', 'double_backward', 'conv.py')) == \
        osp.join('tests', 'test_ops', 'test_double_backward', 'test_conv.py')


def test_every_package_module_has_its_test_module():
    missing = [
        mirrored_test(m) for m in _modules()
        if not osp.isfile(osp.join(REPO, mirrored_test(m)))
    ]
    assert missing == []


def test_no_package_module_is_over_400_lines():
    long = {}
    for module in _modules():
        with open(osp.join(PACKAGE, module)) as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            long[module] = n
    assert long == {}


def test_experiment_configs_follow_the_naming_scheme():
    names = [osp.basename(p) for p in glob.glob(
        osp.join(REPO, 'configs', 'kd*.py'))]
    # the documented headline command keeps its name (``vit_b``)
    assert 'kdiga_resnet50_vit_b_imagenet.py' in names
    names.remove('kdiga_resnet50_vit_b_imagenet.py')
    assert names and [n for n in names if not CONFIG_NAME.match(n)] == []


def test_every_subpackage_says_its_job_in_a_docstring():
    for init in glob.glob(osp.join(PACKAGE, '**', '__init__.py'),
                          recursive=True):
        with open(init) as f:
            head = f.read(3)
        assert head == '"""', osp.relpath(init, REPO)

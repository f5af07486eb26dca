"""The private upstream APIs the package relies on behave as checked."""
import torch
from mmengine.runner import loops

from kdiga_mmrazor.compat.private_apis import PRIVATE_APIS, check_private_apis


def test_every_private_api_is_as_checked():
    assert check_private_apis() == {}


def test_the_list_covers_each_upstream_package():
    names = ' '.join(api.name for api in PRIVATE_APIS)
    for package in ('torch._C', 'mmengine', 'mmpretrain', 'mmrazor',
                    'pyautoattack', 'numpy'):
        assert package in names


def test_a_removed_api_is_reported_with_its_user(monkeypatch):
    monkeypatch.delattr(torch._C, '_will_engine_execute_node')
    failed = check_private_apis()
    assert list(failed) == ['torch._C._will_engine_execute_node']
    assert 'ops.double_backward.engine' in failed[
        'torch._C._will_engine_execute_node']


def test_a_changed_signature_is_reported(monkeypatch):
    monkeypatch.setattr(loops, '_parse_losses', lambda losses: losses)
    assert 'mmengine.runner.loops._parse_losses/_update_losses' in (
        check_private_apis())

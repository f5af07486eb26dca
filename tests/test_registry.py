"""The ATTACKS registry: its scope, the classes registered in it, builds
from dicts."""
import pytest

from kdiga_mmrazor.attacks import AutoAttack, FGSMAttack, PGDAttack
from kdiga_mmrazor.registry import ATTACKS


def test_attacks_registry_scope_is_the_package():
    assert ATTACKS.scope == 'kdiga_mmrazor'


def test_attacks_registry_holds_exactly_the_package_attacks():
    # tests may register toy attacks of their own (test_evaluation's
    # conftest does): only the package's modules count here
    ours = {
        name: cls
        for name, cls in ATTACKS.module_dict.items()
        if cls.__module__.split('.')[0] == 'kdiga_mmrazor'
    }
    assert ours == {
        'AutoAttack': AutoAttack,
        'FGSMAttack': FGSMAttack,
        'PGDAttack': PGDAttack
    }


@pytest.mark.parametrize('cls, cfg', [
    (FGSMAttack, dict(type='FGSMAttack', eps=2 / 255)),
    (PGDAttack, dict(type='PGDAttack', eps=2 / 255, steps=5)),
    (AutoAttack, dict(type='AutoAttack', eps=2 / 255)),
])
def test_attacks_build_from_dicts(cls, cfg):
    attack = ATTACKS.build(cfg)
    assert type(attack) is cls
    assert attack.eps == 2 / 255


def test_build_in_package_scope_from_another_default_scope():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        attack = ATTACKS.build(
            dict(type='PGDAttack', eps=8 / 255, _scope_='kdiga_mmrazor'))
    assert attack.name == 'pgd20_linf_8'


def test_certifiers_registry_holds_the_package_certifiers():
    from kdiga_mmrazor.evaluation.certification import RandomizedSmoothing
    from kdiga_mmrazor.registry import CERTIFIERS
    assert CERTIFIERS.scope == 'kdiga_mmrazor'
    ours = {
        name: cls
        for name, cls in CERTIFIERS.module_dict.items()
        if cls.__module__.split('.')[0] == 'kdiga_mmrazor'
    }
    assert ours == {'RandomizedSmoothing': RandomizedSmoothing}
    built = CERTIFIERS.build(
        dict(type='RandomizedSmoothing', sigma=0.5, _scope_='kdiga_mmrazor'))
    assert type(built) is RandomizedSmoothing and built.sigma == 0.5

"""build_attack, attack_names and select_attacks: configs to attacks,
metric names, a configured list narrowed down by name."""
import pytest

from kdiga_mmrazor.attacks import (
    FGSMAttack,
    PGDAttack,
    attack_names,
    build_attack,
    select_attacks,
)

PGD20 = dict(type='PGDAttack', eps=8 / 255, steps=20)
FGSM2 = dict(type='FGSMAttack', eps=2 / 255)


def test_build_attack_from_dict_has_type_and_eps():
    attack = build_attack(dict(type='PGDAttack', eps=4 / 255), 'where')
    assert type(attack) is PGDAttack
    assert attack.eps == 4 / 255


def test_build_attack_does_not_change_the_config():
    cfg = dict(PGD20)
    build_attack(cfg, 'where')
    assert cfg == PGD20


def test_built_attack_passes_through_unchanged():
    attack = FGSMAttack(eps=2 / 255)
    assert build_attack(attack, 'where') is attack


def test_non_attack_raises_type_error_naming_where():
    with pytest.raises(TypeError, match=r'^robust_attacks entries must be '
                       r'ATTACKS configs .*got str$'):
        build_attack('PGDAttack', 'robust_attacks')


def test_attack_names_are_the_metric_names():
    assert attack_names([PGD20, FGSM2], 'where') == [
        'pgd20_linf_8', 'fgsm_linf_2']


def test_select_attacks_keeps_configured_order():
    cfgs = [PGD20, FGSM2]
    assert select_attacks(cfgs, ['fgsm_linf_2', 'pgd20_linf_8'],
                          'where') == [PGD20, FGSM2]


def test_select_attacks_keeps_only_named_entries():
    fgsm = FGSMAttack(eps=2 / 255)
    assert select_attacks([PGD20, fgsm], ['fgsm_linf_2'], 'where') == [fgsm]


def test_select_attacks_refuses_unknown_name_listing_configured():
    with pytest.raises(ValueError, match=r"^test_cfg.attacks: \['pgd10_linf"
                       r"_8'\] not among the configured attacks "
                       r"\['pgd20_linf_8', 'fgsm_linf_2'\]$"):
        select_attacks([PGD20, FGSM2], ['pgd10_linf_8'], 'test_cfg.attacks')

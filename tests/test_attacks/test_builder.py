"""build_attack, attack_names and select_attacks: configs to attacks,
metric names, a configured list narrowed down by name."""
import pytest

from kdiga_mmrazor.attacks import (
    FGSMAttack,
    PGDAttack,
    attack_names,
    build_attack,
    build_attacks,
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


@pytest.mark.parametrize('cfg, error, match', [
    (dict(type='PGDAttack', eps=8), ValueError,
     r'^test_cfg.attacks\[1\]: PGDAttack: eps=8 is not in the \[0, 1\] pixel '
     r'scale of L∞ budgets; pixels are in \[0, 1\]: write eps=8 / 255'),
    (dict(type='FGSMAttack', eps='8/255'), TypeError,
     r"^test_cfg.attacks\[1\]: FGSMAttack: eps='8/255' is a string; write "
     r'8 / 255 as a Python expression in the config, not a string$'),
    (dict(type='PGDAttack', eps=8 / 255, steps=0), ValueError,
     r'^test_cfg.attacks\[1\]: PGDAttack: steps must be an int >= 1, got 0$'),
    (dict(type='PGDAttack', epsilon=8 / 255), TypeError,
     r"^test_cfg.attacks\[1\]: .*unexpected keyword argument 'epsilon'"),
    (dict(type='PGDAtack', eps=8 / 255), KeyError,
     r"^'test_cfg.attacks\[1\]: PGDAtack is not in the"),
])
def test_refused_configs_name_the_list_entry(cfg, error, match):
    with pytest.raises(error, match=match):
        attack_names([FGSM2, cfg], 'test_cfg.attacks')


def test_build_attacks_builds_each_entry_and_names_the_bad_one():
    attacks = build_attacks([PGD20, FGSM2], 'attacks')
    assert [type(a) for a in attacks] == [PGDAttack, FGSMAttack]
    with pytest.raises(TypeError, match=r'^attacks entries must be ATTACKS '
                       r'configs .*got str at attacks\[0\]$'):
        build_attacks(['PGDAttack'], 'attacks')


def test_without_an_index_the_error_names_where():
    with pytest.raises(ValueError, match=r'^RobustEvaluator: attacks: '
                       r'PGDAttack: eps must be >= 0, got -0\.1$'):
        build_attack(dict(type='PGDAttack', eps=-0.1),
                     'RobustEvaluator: attacks')

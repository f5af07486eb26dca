"""Certifiers from configs: the registry, one dict or a list, errors that
name the config key."""
import pytest

from kdiga_mmrazor.evaluation.certification import (
    RandomizedSmoothing,
    build_certifier,
    build_certifiers,
)

WHERE = 'test_cfg.certification'


def test_a_dict_a_list_or_none():
    one = build_certifiers(dict(type='RandomizedSmoothing', sigma=0.5),
                           WHERE)
    assert [type(c) for c in one] == [RandomizedSmoothing]
    assert one[0].sigma == 0.5
    two = build_certifiers([
        dict(type='RandomizedSmoothing', sigma=0.25),
        dict(type='RandomizedSmoothing', sigma=0.5, n=1000),
    ], WHERE)
    assert [c.name for c in two] == ['smooth_l2_sigma0.25',
                                     'smooth_l2_sigma0.5']
    assert build_certifiers(None, WHERE) == []
    built = RandomizedSmoothing(1.0)
    assert build_certifier(built, WHERE) is built


def test_errors_name_the_config_entry():
    with pytest.raises(ValueError, match=r'^test_cfg\.certification\[1\]: '
                       r'RandomizedSmoothing: sigma must be > 0'):
        build_certifiers([dict(type='RandomizedSmoothing', sigma=0.25),
                          dict(type='RandomizedSmoothing', sigma=0)], WHERE)
    with pytest.raises(TypeError, match=r'certification\[0\]: .*steps'):
        build_certifiers([dict(type='RandomizedSmoothing', sigma=0.25,
                               steps=3)], WHERE)
    with pytest.raises(KeyError, match=r'certification\[0\]: .*Smoothing2'):
        build_certifiers([dict(type='Smoothing2', sigma=0.25)], WHERE)
    with pytest.raises(TypeError, match='CERTIFIERS config'):
        build_certifiers([0.25], WHERE)


def test_names_must_be_distinct():
    with pytest.raises(ValueError, match='distinct names.*name=...'):
        build_certifiers([dict(type='RandomizedSmoothing', sigma=0.25),
                          dict(type='RandomizedSmoothing', sigma=0.25,
                               n=1000)], WHERE)

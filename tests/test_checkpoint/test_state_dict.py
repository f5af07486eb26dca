"""Where checkpoints keep their weights, and prefixes removed only at the
start of a key."""
import pytest
import torch

from kdiga_mmrazor.checkpoint import (
    extract_state_dict,
    select_prefix,
    strip_prefix,
)


def test_extract_state_dict_reads_common_layouts():
    t = torch.ones(1)
    assert extract_state_dict({'model': {'module.a': t}}) == {'a': t}
    assert extract_state_dict({'net': {'a': t}, 'acc': 3}) == {'a': t}
    assert extract_state_dict({'a': t, 'epoch': 3}) == {'a': t}
    with pytest.raises(TypeError, match='must be a dict, got list'):
        extract_state_dict([t])


def test_prefix_is_stripped_only_at_the_start_of_a_key():
    t = torch.ones(1)
    weights = {'module.a': t, 'b.module.c': t, 'module.module.d': t}
    assert list(strip_prefix(weights, 'module.')) == [
        'a', 'b.module.c', 'module.d'
    ]
    assert list(extract_state_dict({'state_dict': weights})) == [
        'a', 'b.module.c', 'module.d'
    ]


def test_select_prefix_keeps_only_that_prefix_without_it():
    t = torch.ones(1)
    weights = {'architecture.w': t, 'teacher.w': t, 'x.architecture.v': t,
               'architecture.meta': 'not a tensor'}
    assert list(select_prefix(weights, 'architecture.')) == ['w']

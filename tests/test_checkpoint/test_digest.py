import torch

from kdiga_mmrazor.checkpoint import state_dict_digest


def test_digest_depends_on_values_dtypes_shapes_and_names_not_order():
    a = {'w': torch.arange(6.).reshape(2, 3), 'n': torch.tensor(3)}
    base = state_dict_digest(a)
    assert state_dict_digest(dict(reversed(list(a.items())))) == base
    assert state_dict_digest({'w': a['w'].t().contiguous().t(),
                              'n': a['n']}) == base
    changed = [
        {'w': a['w'].clone().index_fill_(1, torch.tensor([0]), 1e-7),
         'n': a['n']},
        {'w': a['w'].double(), 'n': a['n']},
        {'w': a['w'].reshape(3, 2), 'n': a['n']},
        {'v': a['w'], 'n': a['n']},
    ]
    digests = {state_dict_digest(c) for c in changed}
    assert base not in digests and len(digests) == len(changed)


def test_digest_of_known_bytes():
    import hashlib
    expected = hashlib.sha256(
        b'x' + b'torch.uint8(2,)' + bytes([1, 2])).hexdigest()
    assert state_dict_digest(
        {'x': torch.tensor([1, 2], dtype=torch.uint8)}) == expected

"""Per-sample noise streams depend on (seed, sample_idx) only."""
import torch

from kdiga_mmrazor.evaluation.certification import (
    sample_generator,
    sample_seed,
)


def test_sample_seed_is_stable_and_separates_seeds_and_indices():
    seeds = {sample_seed(s, i) for s in range(3) for i in range(100)}
    assert len(seeds) == 300
    assert sample_seed(0, 17) == sample_seed(0, 17)
    assert 0 <= sample_seed(2**40, 2**40) < 2**63
    # pinned: the same across runs, platforms and releases (SHA-256, not
    # Python's salted hash), so recorded certificates stay reproducible
    assert sample_seed(0, 0) == 7070696352954379657
    assert sample_seed(1, 5) == 8566962215485318694


def test_generators_of_the_same_key_draw_the_same_noise():
    cpu = torch.device('cpu')
    a = torch.randn(5, generator=sample_generator(3, 8, cpu))
    b = torch.randn(5, generator=sample_generator(3, 8, cpu))
    c = torch.randn(5, generator=sample_generator(3, 9, cpu))
    d = torch.randn(5, generator=sample_generator(4, 8, cpu))
    assert torch.equal(a, b)
    assert not torch.equal(a, c) and not torch.equal(a, d)

"""The process group of a distributed run is destroyed at its end."""
import pytest
import torch.distributed as torch_dist

from kdiga_mmrazor.engine import closing_process_group
from kdiga_mmrazor.engine.process_group import destroy_default_process_group

from ..conftest import free_port


def init_single_rank_gloo() -> None:
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0,
        world_size=1)


def test_a_run_that_finishes_leaves_no_process_group():
    with closing_process_group():
        init_single_rank_gloo()
        assert torch_dist.is_initialized()
    assert not torch_dist.is_initialized()
    # a new group can be made afterwards (the old one is really gone)
    with closing_process_group():
        init_single_rank_gloo()
    assert not torch_dist.is_initialized()


def test_a_run_that_raises_leaves_no_process_group_and_keeps_its_error():
    with pytest.raises(ValueError, match='inside the run'):
        with closing_process_group():
            init_single_rank_gloo()
            raise ValueError('inside the run')
    assert not torch_dist.is_initialized()


def test_a_run_without_a_process_group_is_left_alone():
    with closing_process_group():
        pass
    assert not torch_dist.is_initialized()
    assert destroy_default_process_group() is False
    init_single_rank_gloo()
    assert destroy_default_process_group() is True
    assert not torch_dist.is_initialized()

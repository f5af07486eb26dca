"""The end of a distributed run: the default process group destroyed.

MMEngine's runner initialises the process group of a ``--launcher`` run
and never destroys it. A process that then exits with a live gloo group
can abort during interpreter shutdown (SIGABRT, "terminate called without
an active exception"): gloo's worker threads still hold work objects while
Python tears down. The tools therefore run the runner inside
:func:`closing_process_group`, which destroys the group while the
interpreter is still whole. Nothing happens in a non-distributed run.
"""
from contextlib import contextmanager
from typing import Iterator

import torch.distributed as torch_dist
from mmengine.dist import barrier, is_distributed


def destroy_default_process_group() -> bool:
    """Destroy the default process group if one is initialised; whether
    there was one."""
    if not is_distributed():
        return False
    torch_dist.destroy_process_group()
    return True


@contextmanager
def closing_process_group() -> Iterator[None]:
    """Run the body, then destroy the default process group (also when the
    body raises: the error propagates). After a body that finished, the
    ranks first meet at a barrier, so none destroys the group while
    another still runs its last collective (MMEngine's ``barrier``: a
    no-op without a group)."""
    try:
        yield
    except BaseException:
        destroy_default_process_group()
        raise
    barrier()
    destroy_default_process_group()

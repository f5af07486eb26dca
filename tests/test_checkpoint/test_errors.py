"""The error classes: what callers can catch them as."""
import pickle

import pytest

from kdiga_mmrazor.checkpoint import (
    CheckpointDigestError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
)


def test_a_corrupt_file_is_a_value_error_and_not_called_unsafe():
    assert issubclass(CorruptCheckpointError, ValueError)
    assert not issubclass(CorruptCheckpointError, pickle.UnpicklingError)
    assert not issubclass(UnsafeCheckpointError, CorruptCheckpointError)


def test_an_unsafe_file_is_an_unpickling_error():
    # what torch itself raises for a refused pickle
    with pytest.raises(pickle.UnpicklingError, match='names os.system'):
        raise UnsafeCheckpointError('names os.system')


def test_a_digest_mismatch_is_a_corrupt_checkpoint():
    with pytest.raises(CorruptCheckpointError, match='digest'):
        raise CheckpointDigestError('digest differs')

"""What can be wrong with a checkpoint file, as exception classes.

* :class:`UnsafeCheckpointError`: the file is a pickle that would build
  objects beyond plain weights (loading it could run code); nothing from
  it ran.
* :class:`CorruptCheckpointError`: the file cannot be read as a
  checkpoint: empty, truncated, failing its CRC-32, or not a checkpoint
  format at all (text, JSON, an image, ...).
* :class:`CheckpointDigestError`: the file reads, but its tensors differ
  from the digest recorded when it was saved.

Every message names the file and says what to do.
"""
import pickle


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects beyond plain weights."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file is damaged, or not in a checkpoint format."""


class CheckpointDigestError(CorruptCheckpointError):
    """A checkpoint's tensors differ from its recorded digest."""

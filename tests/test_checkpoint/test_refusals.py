"""torch's load failures turned into this package's errors."""
import os
import pickle

import torch

from kdiga_mmrazor.checkpoint import (
    CorruptCheckpointError,
    UnsafeCheckpointError,
)
from kdiga_mmrazor.checkpoint.formats import PICKLE, TORCH_ZIP
from kdiga_mmrazor.checkpoint.refusals import (
    read_error,
    refusal_error,
    torch_error_detail,
)

from .conftest import RunsOnLoad, weights

ADVICE = ('Weights only load failed. In PyTorch 2.6, we changed the default '
          'value of the `weights_only` argument in `torch.load` from `False` '
          'to `True`. Re-running `torch.load` with `weights_only` set to '
          '`False` will likely succeed\n')


def test_torch_error_detail_keeps_the_reason_and_drops_the_advice():
    text = (ADVICE + 'Please file an issue with the following so that we '
            'can make `weights_only=True` compatible with your use case: '
            'WeightsUnpickler error: \n\nUnsupported operand 149\n\nCheck '
            'the documentation of torch.load to learn more')
    assert torch_error_detail(text) == 'Unsupported operand 149 (FRAME)'
    assert torch_error_detail(
        ADVICE + 'WeightsUnpickler error: Unsupported global: GLOBAL '
        'posix.system was not an allowed global by default. Please use '
        '`torch.serialization.add_safe_globals([posix.system])`'
    ) == 'Unsupported global: GLOBAL posix.system'
    assert torch_error_detail(ADVICE) == 'no detail'


def test_a_refused_global_in_a_whole_pickle_is_unsafe(tmp_path):
    path = tmp_path / 'x.pth'
    torch.save({'x': RunsOnLoad(str(tmp_path / 'ran'))}, path)
    error = refusal_error(str(path), TORCH_ZIP, ADVICE + 'WeightsUnpickler '
                          'error: Unsupported global: GLOBAL posix.system')
    assert type(error) is UnsafeCheckpointError
    assert str(error).startswith(
        f'refused to load checkpoint {str(path)!r}: its pickle holds '
        'objects that are not plain weights (Unsupported global: GLOBAL '
        'posix.system). Loading it could run code')


def test_an_unreadable_operation_without_globals_is_corrupt(tmp_path):
    path = tmp_path / 'x.pkl'
    path.write_bytes(pickle.dumps([1, 2], protocol=5))
    error = refusal_error(str(path), PICKLE, 'Unsupported operand 149')
    assert type(error) is CorruptCheckpointError
    assert 'names no code, yet torch cannot read it (Unsupported operand '\
        '149 (FRAME))' in str(error)


def test_an_unreadable_operation_with_a_real_global_is_unsafe(tmp_path):
    path = tmp_path / 'x.pkl'
    path.write_bytes(pickle.dumps(os.system, protocol=5))
    error = refusal_error(str(path), PICKLE, 'Unsupported operand 149')
    assert type(error) is UnsafeCheckpointError
    assert (f'it names {os.system.__module__}.system; torch stopped at: '
            'Unsupported operand 149 (FRAME)') in str(error)


def test_read_errors(tmp_path):
    path = str(tmp_path / 'x.pth')
    torch.save(weights(), path)
    cut = read_error(path, PICKLE, RuntimeError('unexpected EOF, expected '
                                                '12 more bytes'))
    assert type(cut) is CorruptCheckpointError
    assert str(cut).startswith(
        f'checkpoint {path!r} (pickle format) is cut short or damaged: torch '
        'could not read it (RuntimeError: unexpected EOF, expected 12 more '
        'bytes)')
    foreign = read_error(path, PICKLE,
                         RuntimeError('Invalid magic number; corrupt file?'))
    assert 'is a pickle but not a torch.save file' in str(foreign)
    cuda = read_error(path, TORCH_ZIP, RuntimeError(
        'Attempting to deserialize object on a CUDA device but '
        'torch.cuda.is_available() is False.'))
    assert type(cuda) is RuntimeError
    assert "load it with map_location='cpu'" in str(cuda)

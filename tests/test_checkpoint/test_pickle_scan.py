"""Globals a pickle names, found without running it."""
import os
import pickle
import pickletools

import pytest
import torch

from kdiga_mmrazor.checkpoint.pickle_scan import (
    allowed_global_names,
    cannot_exist,
    disallowed_globals,
    opcode_name,
    pickle_globals,
    scan_pickles,
)

from .conftest import RunsOnLoad


@pytest.mark.parametrize('protocol', [0, 1, 2, 4, 5])
def test_a_reduce_to_os_system_is_found_in_every_protocol(
        protocol, tmp_path):
    marker = tmp_path / 'ran'
    data = pickle.dumps({'x': RunsOnLoad(str(marker))}, protocol=protocol)
    assert pickle_globals(data) == [f'{os.system.__module__}.system']
    assert not marker.exists()


def test_a_name_fetched_from_the_memo_is_resolved():
    # protocol 4+ memoises strings; the second use of 'posix' comes from
    # the memo (BINGET), not a string opcode
    data = pickle.dumps([os.system, os.getcwd], protocol=4)
    ops = [op.name for op, _, _ in pickletools.genops(data)]
    assert 'BINGET' in ops
    module = os.system.__module__
    assert pickle_globals(data) == [f'{module}.system', f'{module}.getcwd']


def test_plain_data_names_no_globals():
    assert pickle_globals(pickle.dumps({'a': [1, 2.0, 'x']},
                                       protocol=5)) == []


def test_legacy_torch_files_are_scanned_across_their_pickles(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'w': torch.ones(3), 'x': RunsOnLoad('m')}, path,
               _use_new_zipfile_serialization=False)
    found = pickle_globals(path.read_bytes())
    assert f'{os.system.__module__}.system' in found
    assert 'torch._utils._rebuild_tensor_v2' in found
    assert disallowed_globals(path.read_bytes()) == [
        f'{os.system.__module__}.system']


def test_scanning_stops_at_bytes_that_are_not_a_pickle():
    data = pickle.dumps(os.system, protocol=2) + bytes(range(256))
    assert pickle_globals(data) == [f'{os.system.__module__}.system']


def test_torch_allows_its_rebuild_functions_and_not_os_system():
    allowed = allowed_global_names()
    assert 'torch._utils._rebuild_tensor_v2' in allowed
    assert 'collections.OrderedDict' in allowed
    assert f'{os.system.__module__}.system' not in allowed
    assert 'builtins.exec' not in allowed


def test_opcode_names():
    assert opcode_name(149) == 'FRAME'
    assert opcode_name(ord('c')) == 'GLOBAL'
    assert opcode_name(0xEE) == 'byte 238'


def test_a_cut_pickle_is_told_from_one_followed_by_other_bytes():
    data = pickle.dumps({'w': os.system}, protocol=2)
    assert scan_pickles(data).cut is False
    assert scan_pickles(data + bytes(100)).cut is False
    assert scan_pickles(data[:-3]).cut is True
    # only the start of a longer file: running out is not a cut
    assert scan_pickles(data[:-3], whole=False).cut is False


@pytest.mark.parametrize('name, missing', [
    ('torch._utils._rebuild_tensor_v2', False),
    (f'{os.system.__module__}.system', False),
    ('collections.OrderedDict', False),
    ('torch._utils._rebuiQd_tensor_v2', True),  # a damaged letter
    ('torch._utils._rebui\xf1ld_tensor_v2', True),
    ('tUrch.FloatStorage', False),  # not loaded here: may exist
    ('__main__.Net', False),  # a class of the script that saved it
    ('subprocess.Popen', False),
    ('?.?', False),  # unreadable: may exist
])
def test_names_that_cannot_exist(name, missing):
    assert cannot_exist(name) is missing


def test_python_2_names_of_old_protocols_are_read_as_python_3_names():
    data = pickle.dumps([getattr, exec], protocol=2)
    assert b'__builtin__' in data
    assert pickle_globals(data) == ['builtins.getattr', 'builtins.exec']

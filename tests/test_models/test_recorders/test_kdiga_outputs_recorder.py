"""KDIGAOutputsRecorder: built from configs, filled by ``record``, reset
on context entry, read back exactly."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmrazor.models.task_modules import RecorderManager
from mmrazor.registry import TASK_UTILS

from kdiga_mmrazor.models.recorders import KDIGAOutputsRecorder


@pytest.fixture(autouse=True)
def mmrazor_scope():
    """Build in MMRazor's scope, whatever default scope a Runner built
    earlier in the session left behind."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


def _tensor(seed, shape=(2, 3)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture
def recorder():
    rec = KDIGAOutputsRecorder('logits')
    rec.initialize()  # nothing to hook: no model needed
    return rec


@pytest.mark.parametrize('source', ['logits', 'input_grad'])
def test_builds_from_task_utils_with_its_source(source):
    rec = TASK_UTILS.build(dict(type='KDIGAOutputsRecorder', source=source))
    assert type(rec) is KDIGAOutputsRecorder
    assert rec.source == source


def test_builds_in_recorder_manager_as_kdiga_outputs():
    manager = RecorderManager(
        dict(grads=dict(type='KDIGAOutputs', source='input_grad')))
    rec = manager.get_recorder('grads')
    assert (type(rec), rec.source) == (KDIGAOutputsRecorder, 'input_grad')


def test_unknown_source_is_refused_listing_sources():
    with pytest.raises(ValueError, match=r"source must be one of \('logits'"
                       r", 'input_grad'\), got 'backbone.fc'"):
        KDIGAOutputsRecorder('backbone.fc')


def test_prepare_hooks_nothing_on_the_model():
    model = torch.nn.Linear(2, 2)
    KDIGAOutputsRecorder('logits').initialize(model)
    assert dict(model._forward_hooks) == {}


def test_starts_empty(recorder):
    assert recorder.data_buffer == []


def test_record_stores_the_tensor_itself(recorder):
    data = _tensor(0)
    recorder.record(data)
    assert recorder.get_record_data() is data


def test_records_keep_their_order(recorder):
    first, second = _tensor(0), _tensor(1)
    recorder.record(first)
    recorder.record(second)
    torch.testing.assert_close(recorder.get_record_data(1), second,
                               rtol=0, atol=0)
    torch.testing.assert_close(recorder.get_record_data(0), first,
                               rtol=0, atol=0)


def test_record_keeps_the_graph(recorder):
    w = torch.ones(3, requires_grad=True)
    recorder.record(w * 2)
    recorder.get_record_data().sum().backward()
    torch.testing.assert_close(w.grad, torch.full((3, ), 2.0))


def test_entering_the_context_resets_the_buffer(recorder):
    recorder.record(_tensor(0))
    with recorder:
        assert recorder.data_buffer == []
    new = _tensor(1)
    recorder.record(new)  # KDIGADistill writes after the context
    assert recorder.data_buffer == [new]


def test_reset_data_buffer_empties_it(recorder):
    recorder.record(_tensor(0))
    recorder.reset_data_buffer()
    assert recorder.data_buffer == []


def test_data_idx_picks_from_a_tuple_record(recorder):
    a, b = _tensor(0), _tensor(1)
    recorder.record((a, b))
    assert recorder.get_record_data(0, data_idx=1) is b


def test_reading_an_empty_recorder_fails_naming_record_idx(recorder):
    with pytest.raises(AssertionError, match='record_idx is illegal. The '
                       'length of data_buffer is 0'):
        recorder.get_record_data()

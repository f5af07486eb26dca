"""File to file: pickle-free in, MMPretrain-loadable out, the source's
sha256, normalisation and unmatched keys in ``meta``."""
import pytest
import torch

from kdiga_mmrazor.checkpoint import (
    CheckpointDigestError,
    UnmatchedKeysError,
    convert_resnet_checkpoint,
    file_sha256,
    load_state_dict_checked,
    safe_torch_load,
)
from kdiga_mmrazor.checkpoint.converters import summary_lines

from .conftest import (
    OTHER_MEAN,
    OTHER_STD,
    mmpretrain_resnet,
    normalize_model,
    prefixed,
    robustness_checkpoint,
)


@pytest.fixture
def robustbench_file(tmp_path, resnet18) -> str:
    wrapper = normalize_model(resnet18, OTHER_MEAN, OTHER_STD)
    path = str(tmp_path / 'Salman2020Do_R18.pt')
    torch.save(dict(state_dict=prefixed(wrapper.state_dict(), 'module.')),
               path)
    return path


def test_written_checkpoint_loads_strictly(tmp_path, robustbench_file):
    dst = str(tmp_path / 'r18_mmpretrain.pth')
    converted, info = convert_resnet_checkpoint(robustbench_file, dst,
                                                'robustbench')
    saved = torch.load(dst, weights_only=True)
    meta = saved['meta']
    assert meta['source'] == 'Salman2020Do_R18.pt'
    assert meta['source_sha256'] == file_sha256(robustbench_file)
    assert meta['layout'] == 'robustbench' and meta['partial'] is False
    assert meta['normalization'] == dict(mean=[0.5, 0.4, 0.3],
                                         std=[0.2, 0.25, 0.3])
    assert meta['data_preprocessor']['mean'] == [127.5, 102.0, 76.5]
    assert meta['model'] == info.model
    assert len(saved['state_dict']) == len(converted['state_dict']) == 122
    model = mmpretrain_resnet(18, 512)
    assert load_state_dict_checked(model, dst, who='test') == \
        file_sha256(dst)


def test_edited_output_fails_its_digest(tmp_path, robustbench_file):
    dst = str(tmp_path / 'out.pth')
    convert_resnet_checkpoint(robustbench_file, dst, 'robustbench')
    saved = torch.load(dst, weights_only=True)
    saved['state_dict']['head.fc.bias'] += 1
    torch.save(saved, dst)
    with pytest.raises(CheckpointDigestError):
        safe_torch_load(dst)


def test_refusal_names_the_file_and_writes_nothing(tmp_path, resnet18):
    src, dst = str(tmp_path / 'r18.pth'), tmp_path / 'out.pth'
    weights = dict(resnet18.state_dict())
    del weights['fc.bias']
    torch.save(weights, src)
    with pytest.raises(UnmatchedKeysError) as refused:
        convert_resnet_checkpoint(src, str(dst))
    assert str(refused.value).startswith(f'{src}: torchvision checkpoint')
    assert "['head.fc.bias']" in str(refused.value)
    assert refused.value.info.missing == ['head.fc.bias']
    assert not dst.exists()
    with pytest.raises(KeyError, match=f'^{src}: no key'):
        convert_resnet_checkpoint(src, str(dst), 'robustness')


def test_partial_output_records_what_is_missing(tmp_path, resnet18):
    src, dst = str(tmp_path / 'r18.pth'), str(tmp_path / 'out.pth')
    weights = dict(resnet18.state_dict())
    del weights['fc.bias']
    torch.save(weights, src)
    converted, info = convert_resnet_checkpoint(src, dst,
                                                allow_partial=True)
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['partial'] is True and meta['missing'] == ['head.fc.bias']
    assert len(converted['state_dict']) == 121
    assert 'PARTIAL' in summary_lines(info)[-1]


def test_summary_lines_report_normalisation_and_drops(resnet18):
    from kdiga_mmrazor.checkpoint import convert_robustness_resnet
    _, info = convert_robustness_resnet(robustness_checkpoint(resnet18))
    lines = summary_lines(info)
    assert lines[0] == "layout robustness: ResNet keys under 'module.model.'"
    assert lines[2] == ('normalisation (RGB, [0, 1] pixels): mean '
                        '[0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]')
    assert "'mean': [123.675, 116.28, 103.53]" in lines[3]
    assert lines[4].startswith('dropped 124 known duplicate keys')

"""The converter command lines: print the model and normalisation, write
a strict-loadable checkpoint, refuse partial files unless told."""
import pytest
import torch

from kdiga_mmrazor.checkpoint import load_state_dict_checked

from ...conftest import load_tool
from ...test_checkpoint.test_converters.conftest import (
    OTHER_MEAN,
    OTHER_STD,
    mmpretrain_resnet,
    normalize_model,
    prefixed,
    robustness_checkpoint,
)


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/model_converters/torchvision2mmpretrain.py',
                     'torchvision2mmpretrain')


@pytest.fixture(scope='module')
def resnet18():
    torch.manual_seed(6)
    import torchvision
    return torchvision.models.resnet18(weights=None).eval()


def test_robustbench_file_is_converted(tool, tmp_path, resnet18, capsys):
    src, dst = str(tmp_path / 'rb.pt'), str(tmp_path / 'out.pth')
    wrapper = normalize_model(resnet18, OTHER_MEAN, OTHER_STD, named=False)
    torch.save(prefixed(wrapper.state_dict(), 'model.'), src)
    tool.main([src, dst, '--layout', 'robustbench'])
    out = capsys.readouterr().out
    assert ('normalisation (RGB, [0, 1] pixels): mean [0.5, 0.4, 0.3], '
            'std [0.2, 0.25, 0.3]') in out
    assert "'mean': [127.5, 102.0, 76.5]" in out
    assert f'wrote {dst}: 122 tensors' in out
    load_state_dict_checked(mmpretrain_resnet(18, 512), dst, who='test')


def test_partial_file_is_refused_unless_allowed(tool, tmp_path, resnet18,
                                                capsys):
    src, dst = str(tmp_path / 'tv.pth'), tmp_path / 'out.pth'
    weights = dict(resnet18.state_dict())
    weights['fc.extra'] = weights.pop('fc.bias')
    torch.save(weights, src)
    with pytest.raises(SystemExit) as refused:
        tool.main([src, str(dst)])
    message = str(refused.value.code)
    assert message.startswith(f'error: {src}: torchvision checkpoint')
    assert "['fc.extra']" in message and "['head.fc.bias']" in message
    assert not dst.exists()
    tool.main([src, str(dst), '--allow-partial'])
    out = capsys.readouterr().out
    assert 'checkpoint keys not used (1):\n    fc.extra' in out
    assert 'MMPretrain keys not filled (1):\n    head.fc.bias' in out
    assert torch.load(dst, weights_only=True)['meta']['partial'] is True


def test_depth_and_layout_are_checked_by_the_parser(tool):
    args = tool.parse_args(['a', 'b', '--depth', '50', '--layout', 'timm'])
    assert (args.depth, args.layout, args.allow_partial) == (50, 'timm',
                                                             False)
    with pytest.raises(SystemExit):
        tool.parse_args(['a', 'b', '--depth', '42'])


def test_robustness_tool_defaults_to_its_layout(tmp_path, resnet18,
                                                capsys):
    tool = load_tool('tools/model_converters/'
                     'robustness_resnet_to_mmpretrain.py',
                     'robustness_resnet_to_mmpretrain')
    src, dst = str(tmp_path / 'r.ckpt'), str(tmp_path / 'out.pth')
    torch.save(robustness_checkpoint(resnet18), src)
    tool.main([src, dst])
    out = capsys.readouterr().out
    assert out.startswith("layout robustness: ResNet keys under "
                          "'module.model.'")
    assert 'dropped 124 known duplicate keys' in out
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['normalization']['std'] == [0.229, 0.224, 0.225]


def test_code_in_a_pickle_is_refused_and_never_runs(tool, tmp_path):
    from ...test_checkpoint.conftest import RunsOnLoad
    marker, src = tmp_path / 'code_ran', str(tmp_path / 'crafted.pth')
    torch.save({'conv1.weight': RunsOnLoad(str(marker))}, src)
    with pytest.raises(SystemExit) as refused:
        tool.main([src, str(tmp_path / 'out.pth')])
    assert str(refused.value.code).startswith('error: ')
    assert 'system' in str(refused.value.code)  # the global it named
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()

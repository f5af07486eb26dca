"""export_student: the student's tensors under MMPretrain names, plain
metadata, nothing else."""
import pytest
import torch

from kdiga_mmrazor.checkpoint import export_student, file_sha256


def _algorithm_checkpoint(tmp_path):
    state = {
        'architecture.backbone.w': torch.arange(3.),
        'architecture.head.fc.bias': torch.ones(2),
        'teacher.backbone.w': torch.zeros(3),
    }
    path = tmp_path / 'iter_4.pth'
    torch.save(dict(state_dict=state,
                    meta=dict(iter=4, epoch=0,
                              dataset_meta=dict(classes=('a', 'b')))), path)
    return str(path)


def test_student_weights_and_metadata_are_exported(tmp_path):
    src = _algorithm_checkpoint(tmp_path)
    dst = str(tmp_path / 'student.pth')
    export_student(src, dst)
    saved = torch.load(dst, weights_only=True)
    assert list(saved['state_dict']) == ['backbone.w', 'head.fc.bias']
    torch.testing.assert_close(saved['state_dict']['backbone.w'],
                               torch.arange(3.))
    assert saved['meta'] == dict(
        source='iter_4.pth', source_sha256=file_sha256(src),
        source_prefix='architecture.', iter=4, epoch=0,
        dataset_meta=dict(classes=['a', 'b']))


def test_a_checkpoint_without_the_prefix_names_the_fix(tmp_path):
    src = str(tmp_path / 'plain.pth')
    torch.save({'backbone.w': torch.ones(1)}, src)
    with pytest.raises(KeyError, match=r"no key starting with "
                       r"'architecture\.'.*--prefix"):
        export_student(src, str(tmp_path / 'out.pth'))

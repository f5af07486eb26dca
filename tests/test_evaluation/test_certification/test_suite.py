"""CertificationSuite: one metric per member and certifier under the
member's prefix, every sample certified, ETA totals, settings."""
import pytest
import torch
from torch import nn

from kdiga_mmrazor.evaluation import CertificationSuite


def _constant(label: int, classes: int = 3) -> nn.Module:
    """Predicts ``label`` for every input (by a huge bias)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, classes))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.eye(classes)[label] * 100)
    return model


CFG = dict(type='RandomizedSmoothing', sigma=0.25, n0=10, n=200,
           radii=(0.0, 0.25, 0.5))


def test_every_member_and_sample_is_certified_under_its_prefix():
    suite = CertificationSuite([CFG])
    suite.start(dict(student='robust', teacher='teacher/robust'),
                num_images=4)
    assert suite.certifiers[0].progress.total == 8  # 4 images, 2 members
    x = torch.full((4, 1, 2, 2), 0.5)
    y = torch.tensor([1, 1, 0, 2])
    out = suite.process('student', _constant(1), x, y, [0, 1, 2, 3])
    suite.process('teacher', _constant(0), x, y, [0, 1, 2, 3])
    results = out['smooth_l2_sigma0.25']
    assert [r['label'] for r in results] == [1, 1, 0, 2]
    assert [r['prediction'] for r in results] == [1] * 4  # wrong ones too
    metrics = suite.compute(size=4)
    cap = suite.certifiers[0].max_radius  # 0.456 < 0.5: all n agree
    assert 0.25 < cap < 0.5
    for prefix, acc in (('robust', 50.0), ('teacher/robust', 25.0)):
        key = f'{prefix}/smooth_l2_sigma0.25'
        assert metrics[f'{key}/certified_acc_r0'] == acc
        assert metrics[f'{key}/certified_acc_r0.25'] == acc
        assert metrics[f'{key}/certified_acc_r0.5'] == 0.0
        assert metrics[f'{key}/smoothed_acc'] == acc
        assert metrics[f'{key}/abstain'] == 0.0
    settings, = suite.settings()
    assert settings['num_images'] == 4 and settings['n'] == 200


def test_names_must_not_be_attack_names():
    with pytest.raises(ValueError, match='attack names too'):
        CertificationSuite([dict(CFG, name='pgd20_linf_8')],
                           attack_names=['pgd20_linf_8'])
    assert not CertificationSuite(None)
    assert CertificationSuite(CFG).names == ['smooth_l2_sigma0.25']

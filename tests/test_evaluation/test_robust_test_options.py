"""apply_robust_options: what tools/test.py's --robust, --num-samples,
--attacks and --evaluate-teacher do to a config, and their errors."""
import os.path as osp

import pytest
from mmengine.config import Config

from kdiga_mmrazor.evaluation import apply_robust_options, teacher_alone
from kdiga_mmrazor.evaluation.robust_test_options import (
    configured_attack_names,
)

from ..conftest import REPO


def _cfg(name):
    return Config.fromfile(osp.join(REPO, 'configs', name))


def test_robust_flag_uses_a_robust_eval_file():
    cfg = apply_robust_options(
        _cfg('resnet20_cifar10.py'),
        robust=osp.join(REPO, 'configs/_base_/robust_eval/cifar10_linf_8.py'),
        num_samples=50,
        attacks=['pgd20_linf_8'])
    assert cfg.test_cfg.type == 'RobustTestLoop'
    assert cfg.test_cfg.num_samples == 50
    assert cfg.test_cfg.balanced is True
    assert [(a['type'], a['eps']) for a in cfg.test_cfg.attacks] == [
        ('PGDAttack', 8 / 255)]
    assert cfg.default_hooks.logger.interval == 1


def test_evaluate_teacher_is_set_on_the_loop():
    cfg = apply_robust_options(
        _cfg('kdiga_resnet4b_resnet20_cifar10.py'), evaluate_teacher=True)
    assert cfg.test_cfg.evaluate_teacher is True


def test_robust_flag_without_robust_eval_names_the_fix():
    with pytest.raises(ValueError, match=r'defines no robust_eval.*_base_'):
        apply_robust_options(_cfg('resnet20_cifar10.py'), robust=True)


def test_robust_options_need_a_robust_loop():
    with pytest.raises(ValueError, match='add --robust'):
        apply_robust_options(_cfg('resnet20_cifar10.py'), num_samples=10)


def test_unknown_attack_name_lists_the_configured_ones():
    with pytest.raises(ValueError, match=r"\['pgd20_linf_3'\] not among.*"
                       r'pgd20_linf_2'):
        apply_robust_options(
            _cfg('robust_eval/resnet20_cifar10.py'),
            attacks=['pgd20_linf_3'])


def test_teacher_alone_makes_the_teacher_the_tested_model():
    cfg = teacher_alone(_cfg('kdiga_resnet4b_resnet20_cifar10.py'))
    assert cfg.model.backbone.type == 'ResNet4b'
    assert cfg.model.data_preprocessor.std == [63.0105, 62.0925, 66.708]
    assert cfg.test_cfg.evaluate_teacher is False
    assert cfg.val_cfg.evaluate_teacher is False
    with pytest.raises(ValueError, match='--teacher: .* no model.teacher'):
        teacher_alone(_cfg('resnet20_cifar10.py'), 'resnet20_cifar10.py')


def test_attack_names_a_config_defines_by_where():
    names = configured_attack_names(
        _cfg('robust_eval/resnet4b_cifar10.py'))
    assert names == {
        'test_cfg': ['pgd20_linf_2', 'autoattack_linf_2', 'pgd20_linf_8'],
        'robust_eval': ['pgd20_linf_2', 'autoattack_linf_2', 'pgd20_linf_8']
    }

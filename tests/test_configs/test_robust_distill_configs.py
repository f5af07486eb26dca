"""Every robust-distillation config builds with its checkpoints and takes a
training step.

Each config is built as the runner builds it (teacher and pre-trained
student loaded from the files it names), its inner maximisation is the
teacher's threat model (L∞ 2/255), and one SGD step on a two-image batch
gives the terms its header states and moves only the student.
"""
import copy
import hashlib
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

from kdiga_mmrazor.checkpoint import load_state_dict_checked

from ..conftest import REPO

# config → (method, α, τ, the distill terms its step logs)
CONFIGS = {
    'ard': ('ard', 1.0, 30.0, {'loss_adv'}),
    'rslad': ('rslad', 5 / 6, 1.0, {'loss_adv', 'loss_nat'}),
    'iad': ('iad', 1.0, 1.0, {'loss_adv', 'loss_self'}),
    'adaad': ('adaad', 1.0, 1.0, {'loss_adv', 'loss_nat'}),
    'ard-igdm': ('ard', 1.0, 30.0, {'loss_adv', 'loss_igdm'}),
    'kdiga-ard': ('ard', 1.0, 30.0, {'loss_adv', 'loss_iga'}),
}


def _path(name: str, suffix: str = '-pretrained') -> str:
    """The config of ``name`` fine-tuning the pre-trained student
    (``-pretrained``) or training it from scratch (``''``)."""
    return osp.join(REPO, 'configs',
                    f'{name}_resnet4b_resnet20_cifar10{suffix}.py')


def _loaded(cfg_member: dict, ckpt: str) -> dict:
    """The state dict of a fresh ``cfg_member`` loaded from ``ckpt``."""
    fresh = MODELS.build(copy.deepcopy(cfg_member))
    load_state_dict_checked(fresh, osp.join(REPO, ckpt), who='test',
                            prefixes=('', 'backbone.'))
    return fresh.state_dict()


@pytest.fixture
def past_iad_warm_up():
    hub = MessageHub.get_current_instance()
    saved = hub.get_info('iter')
    hub.update_info('iter', 30000)  # IAD warms up for 117 (23,460 from
    # scratch)
    yield
    if saved is None:
        hub.pop_info('iter')
    else:
        hub.update_info('iter', saved)


@pytest.mark.parametrize('suffix', ['-pretrained', ''])
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_builds_with_its_checkpoints_and_trains_one_step(
        name, suffix, past_iad_warm_up):
    method, alpha, tau, terms = CONFIGS[name]
    cfg = Config.fromfile(_path(name, suffix))
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert (model.method, model.alpha, model.tau) == (method, alpha, tau)
    assert (model.attack.eps, model.attack.alpha, model.attack.steps,
            model.attack.norm) == (2 / 255, 0.5 / 255, 10, 'linf')
    assert model.attack_bn == 'eval'

    # teacher and student are the files' weights, not initial ones
    teacher_file = osp.join(REPO, cfg.model.teacher_ckpt)
    with open(teacher_file, 'rb') as f:
        assert model.teacher_sha256 == hashlib.sha256(f.read()).hexdigest()
    members = [('teacher', model.teacher, cfg.model.teacher_ckpt)]
    if suffix:
        members.append(('architecture', model.architecture,
                        cfg.model.student_ckpt))
    else:  # from scratch: the KDIGA from-scratch config's schedule and
        # normalisation (the teacher's), no student checkpoint
        scratch = Config.fromfile(_path('kdiga', ''))
        assert cfg.model.get('student_ckpt') is None
        for key in ('mean', 'std'):
            assert cfg.model.architecture.data_preprocessor[key] == \
                cfg.model.teacher.data_preprocessor[key]
        for key in ('train_cfg', 'optim_wrapper', 'param_scheduler'):
            assert cfg[key] == scratch[key], key
        if name == 'iad':
            assert model.iad_warmup_iters == 60 * 391
    for member, module, ckpt in members:
        expected = _loaded(cfg.model[member], ckpt)
        for key, value in module.state_dict().items():
            torch.testing.assert_close(value, expected[key], msg=key)

    model.train()
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])
    params = list(model.architecture.parameters())
    before = [p.detach().clone() for p in params]
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    optim = OptimWrapper(
        torch.optim.SGD(model.architecture.parameters(), lr=0.01))
    log = model.train_step(batch, optim)
    logged = {k[len('distill.'):] for k in log
              if k.startswith('distill.loss')}
    assert logged == terms
    assert ('student.loss' in log) == (method in ('ard', 'iad'))
    assert all(torch.isfinite(v).all() for v in log.values())
    assert log['distill.loss_adv'] > 0
    torch.testing.assert_close(
        log['loss'], sum(v for k, v in log.items() if 'loss' in k
                         and k != 'loss'))
    assert any(not torch.equal(b, p) for b, p in zip(before, params))
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, teacher_before[key], msg=key)
    assert not any(m.training for m in model.teacher.modules())

"""Every adversarial-training config builds its model and takes one
training step with the loss its header states; the ResNet-20 ones differ
from their standard-trained twin only in ``model``, the stock MMPretrain
one keeps the stock config's classifier and normalisation."""
import copy
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS as MMRAZOR_MODELS

from kdiga_mmrazor.engine import DivergenceGuardHook, load_config
from kdiga_mmrazor.utils import pixels_from_batch

from ..conftest import REPO

FOLDER = osp.join(REPO, 'configs', 'adversarial')
TWIN = osp.join(FOLDER, 'standard_resnet20_cifar10.py')
EPS = 8 / 255
PGD10 = dict(type='PGDAttack', eps=EPS, alpha=2 / 255, steps=10)
# what each header states: method, attack, β
TWINNED = {
    'pgd-at_resnet20_cifar10.py': ('pgd_at', PGD10, None),
    'trades_resnet20_cifar10.py': ('trades', PGD10, 6.0),
    'fgsm-rs_resnet20_cifar10.py': ('fgsm_rs', dict(
        type='FGSMAttack', eps=EPS, random_start=True), None),
}
STOCK = 'pgd-at_resnet18_cifar10.py'  # mmpretrain::resnet/resnet18_8xb16_…
HEADERS = dict(TWINNED, **{STOCK: ('pgd_at', PGD10, None)})


def test_every_config_of_the_folder_is_checked():
    names = {osp.basename(p) for p in glob.glob(osp.join(FOLDER, '*.py'))}
    assert names == set(HEADERS) | {osp.basename(TWIN)}


def _built(cfg):
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MMRAZOR_MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model


@pytest.mark.parametrize('name', sorted(TWINNED))
def test_config_states_its_header_and_differs_from_its_twin_in_model_only(
        name):
    cfg = load_config(osp.join(FOLDER, name))
    twin = load_config(TWIN)
    method, attack, beta = TWINNED[name]
    assert cfg.model.method == method
    assert cfg.model.attack == attack
    assert cfg.model.get('beta') == beta
    assert cfg.model.attack_bn == 'eval'
    assert cfg.model.architecture == twin.model
    for key in twin.keys():
        if key != 'model':
            assert cfg[key] == twin[key], key
    # validated at the training threat model
    val_attack = cfg.val_cfg.attacks[0]
    assert cfg.val_cfg.type == 'RobustValLoop'
    assert (val_attack.type, val_attack.eps, val_attack.steps) == (
        'PGDAttack', EPS, 20)
    assert isinstance(HOOKS.build(cfg.default_hooks['divergence_guard']),
                      DivergenceGuardHook)
    model = _built(cfg)
    assert type(model).__name__ == 'AdversarialTraining'
    assert model.attack.eps == pytest.approx(EPS)


def _record_train_inputs(model):
    seen = []
    model._normalize.register_forward_pre_hook(
        lambda _, args: seen.append(args[0].detach().clone())
        if model.architecture.training else None)
    return seen


@pytest.mark.parametrize('name', sorted(HEADERS))
def test_config_trains_one_step_on_its_loss(name):
    cfg = load_config(osp.join(FOLDER, name))
    model = _built(cfg)
    before = copy.deepcopy(model)
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])
    x, _ = pixels_from_batch(model, batch, training=True)
    y = torch.tensor([3, 7])
    seen = _record_train_inputs(model)
    lr = 0.01
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    torch.manual_seed(1)
    log = model.train_step(batch, optim)
    x_adv = seen[-1]
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (x_adv - x).abs().max() == pytest.approx(EPS, abs=1e-6)
    # the loss, written out from the pre-step classifier (train mode)
    net = before.pixel_classifier()
    if HEADERS[name][0] == 'trades':
        assert len(seen) == 2
        torch.testing.assert_close(seen[0], x)
        z, z_adv = net(x), net(x_adv)
        expected = {
            'natural.loss': F.cross_entropy(z, y),
            'robust.loss_kl': 6.0 * F.kl_div(
                F.log_softmax(z_adv, 1), F.softmax(z, 1),
                reduction='sum') / 2}
    else:
        assert len(seen) == 1
        expected = {'adv.loss': F.cross_entropy(net(x_adv), y)}
    assert set(log) == set(expected) | {'loss'}
    for key, value in expected.items():
        torch.testing.assert_close(log[key], value.detach(), msg=key)
    moved = [not torch.equal(a, b) for a, b in zip(
        model.parameters(), before.parameters())]
    assert moved[0] and moved[-1] and sum(moved) > len(moved) // 4


def test_twin_is_the_plain_classifier():
    cfg = load_config(TWIN)
    assert cfg.model.type == 'ImageClassifier'
    assert cfg.model.backbone == dict(type='CifarResNet', depth=20,
                                      num_classes=10)
    assert cfg.test_cfg.type == 'RobustTestLoop'
    assert [a.type for a in cfg.test_cfg.attacks] == ['PGDAttack',
                                                      'AutoAttack']


def _unscoped(value):
    """A config value without the ``_scope_`` keys MMEngine adds to what a
    ``mmpretrain::`` base defines."""
    if isinstance(value, dict):
        return {k: _unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(_unscoped(v) for v in value)
    return value


def test_stock_mmpretrain_config_keeps_its_classifier_and_normalisation():
    import mmpretrain
    stock = Config.fromfile(osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'resnet',
        'resnet18_8xb16_cifar10.py'))
    cfg = load_config(osp.join(FOLDER, STOCK))
    assert cfg.model.architecture._scope_ == 'mmpretrain'
    assert _unscoped(cfg.model.architecture) == stock.model
    assert (cfg.model.method, cfg.model.attack) == ('pgd_at', PGD10)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        assert _unscoped(cfg[key]) == stock[key], key
    assert [h.type for h in cfg.custom_hooks] == ['RobustEvalHook']
    assert isinstance(HOOKS.build(cfg.default_hooks['divergence_guard']),
                      DivergenceGuardHook)
    model = _built(cfg)
    norm = model.pixel_classifier().normalize
    torch.testing.assert_close(
        norm.mean.flatten() * 255, torch.tensor(stock.data_preprocessor.mean))
    torch.testing.assert_close(
        norm.std.flatten() * 255, torch.tensor(stock.data_preprocessor.std))
    assert model.data_preprocessor.std.flatten().tolist() == [255] * 3

"""Shared fixtures and helpers: repository paths, the CIFAR-10 image
folders, toy nets, free ports, loading a tool as a module."""
import importlib.util
import logging
import os
import os.path as osp
import socket
import subprocess
from collections.abc import Sequence

import pytest
import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from torch import nn

import kdiga_mmrazor  # noqa: F401  (compat layer, registration)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CHECKPOINTS = osp.join(REPO, 'checkpoints')
TEACHER_CKPT = osp.join(CHECKPOINTS, 'abcrown_resnet4b_linf2.pth')
RESNET20_CKPT = osp.join(CHECKPOINTS, 'akamaster_resnet20.th')


class LogRecords(logging.Handler):
    """A real logging handler that keeps what MMEngine's loggers emit."""

    active: list = []

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def view(self, level: int = logging.DEBUG,
             contains: str = '') -> Sequence[str]:
        """A live sequence of the messages at ``level`` or above that
        contain ``contains`` (compares equal to the list of them)."""
        handler = self

        class Messages(Sequence):

            def _list(self):
                return [m for m in handler.messages(level) if contains in m]

            def __getitem__(self, i):
                return self._list()[i]

            def __len__(self):
                return len(self._list())

            def __eq__(self, other):
                return self._list() == list(other)

            def __repr__(self):
                return repr(self._list())

        return Messages()

    @classmethod
    def attach_active(cls) -> None:
        """Attach the active handlers to every MMLogger (a Runner made
        during a test creates a new one)."""
        from mmengine.logging import MMLogger
        for handler in cls.active:
            for logger in MMLogger._instance_dict.values():
                if handler not in logger.handlers:
                    logger.addHandler(handler)


@pytest.fixture
def mmengine_log():
    """The records of MMEngine's loggers during the test."""
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance()  # at least one logger exists
    handler = LogRecords()
    LogRecords.active.append(handler)
    LogRecords.attach_active()
    yield handler
    LogRecords.active.remove(handler)
    for logger in MMLogger._instance_dict.values():
        logger.removeHandler(handler)


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def load_tool(relpath: str, name: str):
    """A script under ``tools/`` imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def cifar10_folder() -> str:
    """CIFAR-10 as ``{train,test}/<class>/*.jpg`` at ``data/cifar10``
    (``KDIGA_CIFAR10_FOLDER`` names another copy), laid out from the
    offline copy by the repository's script when it is missing."""
    from kdiga_mmrazor.datasets import is_cifar10_folder
    root = os.environ.get('KDIGA_CIFAR10_FOLDER',
                          osp.join(REPO, 'data', 'cifar10'))
    if not is_cifar10_folder(root):
        subprocess.run(
            ['bash', osp.join(REPO, 'tools', 'dataset_converters',
                              'prepare_cifar10.sh')],
            capture_output=True, text=True)
    if not is_cifar10_folder(root):
        pytest.fail(f'CIFAR-10 folders not found at {root}, and '
                    'tools/dataset_converters/prepare_cifar10.sh found no '
                    'offline copy to lay out')
    return osp.abspath(root)


class TinyConvNet(nn.Module):
    """3×8×8 → logits; BatchNorm and Dropout to check train/eval handling."""

    def __init__(self, num_classes: int = 3, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 8 * 8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.tanh(self.bn(self.conv(x))))
        return self.fc(x.flatten(1))


@pytest.fixture
def tiny_net() -> TinyConvNet:
    return TinyConvNet()


@MMPRETRAIN_MODELS.register_module(force=True)
class ToyMLPBackbone(BaseModule):
    """flatten → linear → (BatchNorm1d) → tanh → (Dropout) → linear.

    tanh keeps second derivatives non-zero; the backbone returns logits as
    a one-tuple for ``ClsHead``. Registered for tests only.
    """

    def __init__(self,
                 in_features: int = 3 * 8 * 8,
                 hidden: int = 16,
                 num_classes: int = 3,
                 batch_norm: bool = False,
                 dropout: float = 0.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc1 = nn.Linear(in_features, hidden)
        self.bn = nn.BatchNorm1d(hidden) if batch_norm else nn.Identity()
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor):
        hidden = self.drop(torch.tanh(self.bn(self.fc1(x.flatten(1)))))
        return (self.fc2(hidden), )


def toy_classifier(mean=None, std=None, **backbone) -> dict:
    """An MMPretrain ImageClassifier dict around ToyMLPBackbone."""
    preprocessor = dict(type='ClsDataPreprocessor')
    if mean is not None:
        preprocessor.update(mean=mean, std=std)
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=preprocessor,
        backbone=dict(type='ToyMLPBackbone', **backbone),
        head=dict(type='ClsHead'))


def kdiga_model(student: dict, teacher: dict, gamma: float = 1.0,
                **kwargs) -> dict:
    """configs/_base_/distill/kdiga.py with a student, a teacher and γ."""
    from mmengine.config import Config
    model = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'distill',
                 'kdiga.py')).kdiga_distill.to_dict()
    model['distiller']['distill_losses']['loss_iga']['loss_weight'] = gamma
    model.update(architecture=student, teacher=teacher, **kwargs)
    return model


def data_samples(labels) -> list:
    """MMPretrain DataSamples carrying ``labels``."""
    from mmpretrain.structures import DataSample
    return [DataSample().set_gt_label(int(label)) for label in labels]

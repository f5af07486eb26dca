"""A third-party CIFAR-10 network, registered so that configs can build it.

The third party's code is a plain ``nn.Sequential`` (below, as
``small_cnn_layers``) and its checkpoint a bare state dict saved with
``torch.save(net.state_dict(), path)``, so its keys are the child indices:
``0.weight``, ``0.bias``, ``3.weight``, …, ``7.bias``. To use it as a
teacher:

* **Register it** in MMPretrain's ``MODELS`` (below) in a module that
  ``custom_imports`` can import (run the tools from the repository root;
  they put the working directory on ``sys.path``).
* **Keep the parameter names equal to the checkpoint's keys**: subclass the
  same ``nn.Sequential`` (children ``'0'``, ``'3'``, …), do not wrap it in
  an attribute (that would prefix every key).
* **Return the logits as a one-tuple** and pair the backbone with
  MMPretrain's parameter-free ``ClsHead`` (the network ends in its own
  classifier).
* **Load it with** ``model.teacher_ckpt``: strict (every key and shape
  checked), pickle-free, sha256 logged; the loader tries the keys as they
  are and with ``backbone.`` in front, so a bare backbone checkpoint needs
  no conversion.
* **State its normalisation** in ``model.teacher.data_preprocessor``.

See ``configs/examples/kdiga_smallcnn_resnet20_cifar10.py``.
"""
from mmpretrain.registry import MODELS
from torch import nn


def small_cnn_layers(num_classes: int = 10) -> list:
    """The third party's layers, in its order (indices are the keys)."""
    return [
        nn.Conv2d(3, 16, 3, padding=1),  # 0
        nn.ReLU(),  # 1
        nn.MaxPool2d(2),  # 2
        nn.Conv2d(16, 32, 3, padding=1),  # 3
        nn.ReLU(),  # 4
        nn.MaxPool2d(2),  # 5
        nn.Flatten(),  # 6
        nn.Linear(32 * 8 * 8, num_classes),  # 7
    ]


@MODELS.register_module()
class SmallCNN(nn.Sequential):
    """The third party's ``nn.Sequential`` as an MMPretrain backbone:
    the same child names (so ``0.weight`` … load as they are), logits as a
    one-tuple for ``ClsHead``.

    Args:
        num_classes (int): Classes of the last layer. Defaults to 10.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__(*small_cnn_layers(num_classes))

    def forward(self, x):
        return (super().forward(x), )

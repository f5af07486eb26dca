"""Which MMPretrain ``ResNet`` a torchvision-named state dict is.

torchvision's ResNets (and timm's plain ones, which share their key
names) store ``conv1``, ``bn1``, ``layer1`` … ``layer4`` and ``fc``.
:func:`infer_resnet_arch` reads the depth (block type and blocks per
stage), the widths and the number of classes from those tensors;
:class:`ResNetArch` gives the matching MMPretrain ``ImageClassifier``
config and :func:`expected_shapes` the key names and shapes that model
holds (from the model itself, built once per architecture).
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Mapping, Optional, Tuple

import torch

BASIC, BOTTLENECK = 'BasicBlock', 'Bottleneck'
# MMPretrain's ResNet.arch_settings: depth -> (block, blocks per stage).
ARCH_SETTINGS = {
    18: (BASIC, (2, 2, 2, 2)),
    34: (BASIC, (3, 4, 6, 3)),
    50: (BOTTLENECK, (3, 4, 6, 3)),
    101: (BOTTLENECK, (3, 4, 23, 3)),
    152: (BOTTLENECK, (3, 8, 36, 3)),
}
DEFAULT_EXPANSION = {BASIC: 1, BOTTLENECK: 4}
DEFAULT_WIDTH = 64  # stem and first-stage channels of torchvision's ResNets
DEFAULT_NUM_CLASSES = 1000
_BLOCK_KEY = re.compile(r'^layer([1-4])\.(\d+)\.')
_CONV3_KEY = re.compile(r'^layer[1-4]\.\d+\.conv3\.weight$')


@dataclass(frozen=True)
class ResNetArch:
    """An MMPretrain ``ResNet`` (+ ``LinearClsHead``) architecture.

    ``base_channels`` and ``expansion`` are MMPretrain's arguments: the
    middle width of the first stage and ``out/mid`` of each block
    (torchvision's ``wide_resnet50_2`` is depth 50, base 128, expansion 2).
    """
    depth: int
    num_classes: int = DEFAULT_NUM_CLASSES
    stem_channels: int = DEFAULT_WIDTH
    base_channels: int = DEFAULT_WIDTH
    expansion: Optional[int] = None

    @property
    def block(self) -> str:
        """``'BasicBlock'`` or ``'Bottleneck'``."""
        return ARCH_SETTINGS[self.depth][0]

    @property
    def feat_channels(self) -> int:
        """Channels of the last stage (the head's ``in_channels``)."""
        expansion = self.expansion or DEFAULT_EXPANSION[self.block]
        return self.base_channels * expansion * 8

    def backbone_cfg(self) -> dict:
        """``dict(type='ResNet', depth=...)`` plus the non-default widths."""
        cfg = dict(type='ResNet', depth=self.depth)
        if self.stem_channels != DEFAULT_WIDTH:
            cfg['stem_channels'] = self.stem_channels
        if self.base_channels != DEFAULT_WIDTH:
            cfg['base_channels'] = self.base_channels
        if self.expansion not in (None, DEFAULT_EXPANSION[self.block]):
            cfg['expansion'] = self.expansion
        return cfg

    def model_cfg(self) -> dict:
        """The MMPretrain ``ImageClassifier`` these weights load into."""
        return dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            backbone=self.backbone_cfg(),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=self.num_classes,
                in_channels=self.feat_channels))


def stage_blocks(body: Mapping[str, torch.Tensor]) -> Tuple[int, ...]:
    """Blocks per stage (``layer1`` … ``layer4``) found in ``body``."""
    counts = [0, 0, 0, 0]
    for key in body:
        match = _BLOCK_KEY.match(key)
        if match:
            stage, block = int(match.group(1)) - 1, int(match.group(2))
            counts[stage] = max(counts[stage], block + 1)
    return tuple(counts)


def block_type(body: Mapping[str, torch.Tensor]) -> str:
    """``'Bottleneck'`` if any block has a ``conv3``, else ``'BasicBlock'``."""
    return BOTTLENECK if any(_CONV3_KEY.match(k) for k in body) else BASIC


def _depth_of(body: Mapping[str, torch.Tensor]) -> int:
    """The smallest MMPretrain depth of the same block type holding every
    block found (so that a partial file names its missing keys)."""
    block, counts = block_type(body), stage_blocks(body)
    fitting = [
        depth for depth, (kind, blocks) in sorted(ARCH_SETTINGS.items())
        if kind == block and all(c <= b for c, b in zip(counts, blocks))
    ]
    if not fitting:
        raise ValueError(
            f'no MMPretrain ResNet depth has {block}s with {counts} blocks '
            f'in layer1..layer4 (depths: {_settings_text()}); is this a '
            'torchvision-layout ResNet? Pass depth= (--depth) to convert '
            'to a given depth anyway')
    return fitting[0]


def _settings_text() -> str:
    return ', '.join(f'{d}: {kind} {blocks}'
                     for d, (kind, blocks) in sorted(ARCH_SETTINGS.items()))


def _out_channels(body: Mapping[str, torch.Tensor], key: str,
                  default: int) -> int:
    tensor = body.get(key)
    return int(tensor.shape[0]) if isinstance(tensor, torch.Tensor) and \
        tensor.dim() > 0 else default


def infer_resnet_arch(body: Mapping[str, torch.Tensor],
                      depth: Optional[int] = None) -> ResNetArch:
    """The MMPretrain ``ResNet`` that ``body`` (torchvision key names, no
    prefix) fills.

    Args:
        body (Mapping[str, Tensor]): torchvision-named ResNet tensors.
        depth (int, optional): Use this depth instead of reading it from
            the blocks found.

    Raises:
        ValueError: ``depth`` is not 18/34/50/101/152, or no depth holds
            the blocks found.
    """
    if depth is None:
        depth = _depth_of(body)
    elif depth not in ARCH_SETTINGS:
        raise ValueError(f'depth={depth!r} is not an MMPretrain ResNet depth '
                         f'({sorted(ARCH_SETTINGS)})')
    block = ARCH_SETTINGS[depth][0]
    base = _out_channels(body, 'layer1.0.conv1.weight', DEFAULT_WIDTH)
    expansion = None
    if block == BOTTLENECK:
        out = _out_channels(body, 'layer1.0.conv3.weight',
                            base * DEFAULT_EXPANSION[block])
        if out // base != DEFAULT_EXPANSION[block]:
            expansion = max(out // base, 1)
    fc_key = 'fc.weight' if 'fc.weight' in body else 'fc.bias'
    return ResNetArch(
        depth=depth,
        num_classes=_out_channels(body, fc_key, DEFAULT_NUM_CLASSES),
        stem_channels=_out_channels(body, 'conv1.weight', DEFAULT_WIDTH),
        base_channels=base,
        expansion=expansion)


def expected_shapes(arch: ResNetArch) -> Dict[str, torch.Size]:
    """Every key and shape of the MMPretrain model of ``arch`` (the model
    is built on CPU once per architecture)."""
    return dict(_built_shapes(arch))


@lru_cache(maxsize=8)
def _built_shapes(arch: ResNetArch) -> Dict[str, torch.Size]:
    import mmpretrain.models  # noqa: F401  (registers the models)
    from mmpretrain.registry import MODELS
    model = MODELS.build(arch.model_cfg())
    return {k: v.shape for k, v in model.state_dict().items()}

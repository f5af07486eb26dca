"""Torchvision-named ResNet checkpoints to MMPretrain ``ImageClassifier``
keys, refusing anything that does not fill the model exactly.

torchvision's ``conv1``, ``bn1``, ``layerN.i.{conv,bn}k``,
``layerN.0.downsample.{0,1}`` keep their names under ``backbone.``;
``fc`` becomes ``head.fc`` (MMPretrain's ``ResNet`` + ``LinearClsHead``).
The layouts (:mod:`.layouts`) say where those keys sit in torchvision,
timm, RobustBench and robustness-library files. A conversion that leaves
file keys unused, MMPretrain keys unfilled or shapes unequal is refused
with the keys named, unless ``allow_partial=True`` (then only the matching
tensors are returned). Missing ``num_batches_tracked`` counters (older
checkpoints) are filled with 0; they do not change the outputs.
"""
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from ..state_dict import checkpoint_tensors
from .layouts import LAYOUTS, NoResNetKeysError, Split, split_layout
from .resnet_arch import expected_shapes, infer_resnet_arch

OPTIONAL_SUFFIX = 'num_batches_tracked'
SHOWN = 10  # keys named per list in a refusal


class UnmatchedKeysError(KeyError):
    """A checkpoint that does not fill the MMPretrain model exactly.

    ``info`` (:class:`ConversionInfo`) lists every unmatched key.
    """

    def __init__(self, message: str, info: 'ConversionInfo') -> None:
        super().__init__(message)
        self.info = info

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class ConversionInfo:
    """What a conversion found, kept and left out.

    ``normalization`` is the wrapper's mean/std on [0, 1] RGB pixels
    (``None`` when the file stores none); ``unexpected`` are file keys
    not converted, ``missing`` MMPretrain keys not filled,
    ``shape_mismatches`` keys whose shapes differ, ``dropped`` known
    duplicate copies left out on purpose, ``filled`` the counters set to 0.
    """
    layout: str
    source_prefix: str
    model: Dict[str, Any]
    normalization: Optional[Dict[str, List[float]]] = None
    unexpected: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    shape_mismatches: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    filled: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every key and shape matched."""
        return not (self.unexpected or self.missing or self.shape_mismatches)

    def data_preprocessor(self) -> Optional[Dict[str, Any]]:
        """The MMPretrain ``ClsDataPreprocessor`` applying the wrapper's
        normalisation to 0-255 BGR images (MMPretrain's image loading),
        or ``None`` when the file stores no normalisation."""
        if self.normalization is None:
            return None
        return dict(
            type='ClsDataPreprocessor',
            num_classes=self.model['head']['num_classes'],
            mean=[round(v * 255, 4) for v in self.normalization['mean']],
            std=[round(v * 255, 4) for v in self.normalization['std']],
            to_rgb=True)

    def to_meta(self) -> Dict[str, Any]:
        """Plain (``weights_only``-loadable) metadata of the conversion."""
        meta = asdict(self)
        meta['data_preprocessor'] = self.data_preprocessor()
        meta['partial'] = not self.complete
        return meta


def mmpretrain_name(torchvision_name: str) -> str:
    """``fc.*`` → ``head.fc.*``, anything else → ``backbone.*``."""
    if torchvision_name.startswith('fc.'):
        return 'head.' + torchvision_name
    return 'backbone.' + torchvision_name


def _listed(keys: List[str]) -> str:
    more = f' and {len(keys) - SHOWN} more' if len(keys) > SHOWN else ''
    return f'{keys[:SHOWN]}{more}'


def _suggested_layouts(weights: Mapping[str, torch.Tensor],
                       tried: str) -> List[str]:
    """The other layouts that would convert ``weights`` completely."""
    fitting = []
    for name in LAYOUTS:
        if name == tried:
            continue
        try:
            _, info = _convert(weights, name, None)
        except (KeyError, ValueError):
            continue
        if info.complete:
            fitting.append(name)
    return fitting


def _suggestion(weights: Mapping[str, torch.Tensor], tried: str) -> str:
    fitting = _suggested_layouts(weights, tried)
    if not fitting:
        return ''
    return (f'the keys fit the {fitting[0]!r} layout: pass '
            f'layout={fitting[0]!r} (--layout {fitting[0]})')


def _refusal(info: ConversionInfo, weights: Mapping[str, torch.Tensor],
             kept: int) -> str:
    backbone = info.model['backbone']
    parts = [f'{info.layout} checkpoint does not fill MMPretrain\'s '
             f'ResNet-{backbone["depth"]} + LinearClsHead('
             f'{info.model["head"]["num_classes"]}) exactly (ResNet keys '
             f'under {info.source_prefix!r})']
    if info.unexpected:
        parts.append(f'{len(info.unexpected)} checkpoint keys not used: '
                     f'{_listed(info.unexpected)}')
    if info.missing:
        parts.append(f'{len(info.missing)} MMPretrain keys not filled: '
                     f'{_listed(info.missing)}')
    if info.shape_mismatches:
        parts.append(f'{len(info.shape_mismatches)} shape mismatches: '
                     f'{_listed(info.shape_mismatches)}')
    parts.append(_suggestion(weights, info.layout))
    parts.append(LAYOUTS[info.layout].hint)
    parts.append(f'pass allow_partial=True (--allow-partial) to keep the '
                 f'{kept} matching tensors anyway, or depth= (--depth) to '
                 'convert to another depth')
    return '; '.join(p for p in parts if p)


def _notes(split: Split) -> List[str]:
    layout = LAYOUTS[split.layout]
    notes = [layout.note]
    if split.normalization is None:
        notes.append(layout.no_normaliser)
    return [n for n in notes if n]


def _convert(weights: Mapping[str, torch.Tensor], layout: str,
             depth: Optional[int]
             ) -> Tuple[Dict[str, torch.Tensor], ConversionInfo]:
    split = split_layout(weights, layout)
    arch = infer_resnet_arch(split.body, depth)
    expected = expected_shapes(arch)
    info = ConversionInfo(
        layout=split.layout, source_prefix=split.prefix,
        model=arch.model_cfg(), normalization=split.normalization,
        unexpected=list(split.unexpected), dropped=list(split.dropped),
        notes=_notes(split))
    converted, mismatched = OrderedDict(), set()
    for name, tensor in split.body.items():
        key, source = mmpretrain_name(name), split.sources[name]
        if key not in expected:
            info.unexpected.append(source)
        elif tensor.shape != expected[key]:
            mismatched.add(key)
            info.shape_mismatches.append(
                f'{source} -> {key}: checkpoint {tuple(tensor.shape)} vs '
                f'model {tuple(expected[key])}')
        else:
            converted[key] = tensor
    for key in expected:
        if key in converted or key in mismatched:
            continue
        module = key[:-len(OPTIONAL_SUFFIX)]
        if key.endswith(OPTIONAL_SUFFIX) and module + 'weight' in converted:
            converted[key] = torch.tensor(0, dtype=torch.long)
            info.filled.append(key)
        else:
            info.missing.append(key)
    ordered = OrderedDict((k, converted[k]) for k in expected
                          if k in converted)
    return ordered, info


def convert_resnet(checkpoint: Any,
                   layout: str = 'torchvision',
                   depth: Optional[int] = None,
                   allow_partial: bool = False
                   ) -> Tuple[Dict[str, torch.Tensor], ConversionInfo]:
    """An MMPretrain ``ImageClassifier`` state dict of a ResNet checkpoint.

    Args:
        checkpoint (dict): The loaded file (a state dict, or a dict
            holding it under ``state_dict``/``model``/``net``).
        layout (str): ``'torchvision'``, ``'timm'``, ``'robustbench'`` or
            ``'robustness'`` (:mod:`.layouts`).
        depth (int, optional): MMPretrain ResNet depth; read from the
            blocks found by default.
        allow_partial (bool): Return the matching tensors even when keys
            are left over, missing or of another shape. Defaults to False.

    Returns:
        tuple: The state dict (``backbone.*``, ``head.fc.*``, in the
        model's key order) and a :class:`ConversionInfo` (the model config
        to build, the wrapper's normalisation, every unmatched key).

    Raises:
        UnmatchedKeysError: the conversion is partial and ``allow_partial``
            is False (names the keys on both sides).
        NoResNetKeysError: no ResNet keys behind the layout's prefixes
            (a ``KeyError``; names a layout that fits, if one does).
        ValueError: unknown ``layout`` or ``depth``; no depth fits.
    """
    weights = checkpoint_tensors(checkpoint)
    try:
        state_dict, info = _convert(weights, layout, depth)
    except NoResNetKeysError as error:
        suggestion = _suggestion(weights, layout)
        raise NoResNetKeysError('; '.join(
            p for p in (str(error), suggestion) if p)) from None
    if not info.complete and not allow_partial:
        raise UnmatchedKeysError(_refusal(info, weights, len(state_dict)),
                                 info)
    return state_dict, info


def convert_torchvision_resnet(
        checkpoint: Any, depth: Optional[int] = None,
        allow_partial: bool = False
) -> Tuple[Dict[str, torch.Tensor], ConversionInfo]:
    """:func:`convert_resnet` of a torchvision ResNet's ``state_dict()``
    (keys optionally ``module.``-prefixed)."""
    return convert_resnet(checkpoint, 'torchvision', depth, allow_partial)


def convert_timm_resnet(
        checkpoint: Any, depth: Optional[int] = None,
        allow_partial: bool = False
) -> Tuple[Dict[str, torch.Tensor], ConversionInfo]:
    """:func:`convert_resnet` of a timm plain ResNet's ``state_dict()``
    (``timm.create_model('resnet50')``: torchvision's key names)."""
    return convert_resnet(checkpoint, 'timm', depth, allow_partial)


def convert_robustbench_resnet(
        checkpoint: Any, depth: Optional[int] = None,
        allow_partial: bool = False
) -> Tuple[Dict[str, torch.Tensor], ConversionInfo]:
    """:func:`convert_resnet` of a RobustBench ImageNet ResNet
    (``normalize_model``: ``normalize.mean/std`` + ``model.*``, behind any
    ``module.``/``model.`` prefixes); ``info.normalization`` is its
    ``ImageNormalizer``'s mean/std."""
    return convert_resnet(checkpoint, 'robustbench', depth, allow_partial)


def convert_robustness_resnet(
        checkpoint: Any, depth: Optional[int] = None,
        allow_partial: bool = False
) -> Tuple[Dict[str, torch.Tensor], ConversionInfo]:
    """:func:`convert_resnet` of a robustness-library (MadryLab) ResNet
    (``{'model': {'module.model.*', 'module.attacker.*',
    'module.normalizer.*'}}``, e.g. Salman et al. 2020's
    ``resnet50_linf_eps4.0.ckpt``): keeps ``module.model.*``, drops the
    attacker's copy; ``info.normalization`` is the normaliser's
    ``new_mean``/``new_std``."""
    return convert_resnet(checkpoint, 'robustness', depth, allow_partial)

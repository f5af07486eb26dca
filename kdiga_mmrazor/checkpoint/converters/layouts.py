"""Where a ResNet's torchvision-named keys sit in third-party files.

Each layout says which prefixes may stand before the ResNet's own keys
(``conv1.*``, ``bn1.*``, ``layer1.*`` … ``layer4.*``, ``fc.*``), where the
input normaliser of a wrapper is stored, and which keys are known copies
to drop:

* ``torchvision``, ``timm``: the model's ``state_dict()`` itself,
  optionally ``module.``-prefixed (DDP). timm's plain ResNets
  (``resnet18`` … ``resnet152``) use torchvision's key names.
* ``robustbench``: RobustBench's ImageNet ResNets are
  ``normalize_model(resnet, mean, std)`` (``model_zoo/imagenet.py``,
  ``architectures/utils_architectures.py``): an ``nn.Sequential`` of
  ``normalize`` (``ImageNormalizer``, buffers ``mean``/``std`` of shape
  (1, 3, 1, 1)) and ``model`` (the torchvision ResNet). An unnamed
  ``nn.Sequential(normalizer, resnet)`` stores ``0.``/``1.`` instead.
  Files carry any number of ``module.``/``model.`` prefixes in front, or
  the bare ResNet keys (RobustBench's loader adds ``model.`` itself).
* ``robustness``: MadryLab's ``AttackerModel`` under DataParallel:
  ``module.model.*`` (the ResNet), ``module.normalizer.new_mean`` /
  ``new_std`` (``InputNormalize``, shape (3, 1, 1)) and
  ``module.attacker.*`` (the attacker's copy of the same model and
  normaliser, dropped).

A prefix is recognised only at the start of a key: the whole text before
the ResNet's first module name must match the layout's prefix pattern, so
``model.`` inside a name is never removed.
"""
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import torch

# The ResNet's top-level modules that hold tensors (torchvision names).
RESNET_MODULES = ('conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.',
                  'layer4.', 'fc.')


class NoResNetKeysError(KeyError):
    """No (or no unambiguous) ResNet keys behind a layout's prefixes."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Wrapper:
    """A module that wraps the ResNet as ``<outer><body><resnet key>``
    beside its normaliser ``<outer><normaliser><mean|std>``."""
    body: str
    normaliser: str
    mean: str
    std: str
    dropped: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """A third-party key layout of a torchvision-named ResNet."""
    name: str
    prefixes: str  # a regular expression the whole prefix must match
    described: str  # the same in words
    wrappers: Tuple[Wrapper, ...] = ()
    hint: str = ''  # added to refusals
    note: str = ''  # reported with every conversion
    no_normaliser: str = ''  # reported when the file stores no normaliser


LAYOUTS: Dict[str, Layout] = OrderedDict(
    torchvision=Layout('torchvision', r'(module\.)?', "an optional 'module.'"),
    timm=Layout(
        'timm', r'(module\.)?', "an optional 'module.'",
        hint=('only timm\'s plain ResNets (resnet18 ... resnet152, '
              'wide_resnet50_2/101_2) have torchvision\'s keys; deep-stem '
              'and avg-down variants (resnet50d, ...) are MMPretrain\'s '
              'ResNetV1d, which this converter does not map')),
    robustbench=Layout(
        'robustbench', r'((module|model)\.)*(1\.)?',
        "any 'module.'/'model.' prefixes, then 'model.' or '1.' "
        'of the normalize_model wrapper',
        wrappers=(Wrapper('model.', 'normalize.', 'mean', 'std'),
                  Wrapper('1.', '0.', 'mean', 'std')),
        no_normaliser=('the file stores no normalize module: RobustBench\'s '
                       'ImageNet ResNets use ImageNet\'s mean (0.485, '
                       '0.456, 0.406) and std (0.229, 0.224, 0.225)')),
    robustness=Layout(
        'robustness', r'(module\.)?model\.', "'module.model.' (or 'model.')",
        wrappers=(Wrapper('model.', 'normalizer.', 'new_mean', 'new_std',
                          dropped=('attacker.', )), ),
        note=('the robustness library clamps inputs to [0, 1] before '
              'normalising; MMPretrain\'s data_preprocessor does not (the '
              'same for images in range)')),
)


@dataclass
class Split:
    """A checkpoint's tensors sorted by a layout.

    ``body`` holds the ResNet's tensors under torchvision names,
    ``sources`` the file's key of each. ``normalization`` is the wrapper's
    ``{'mean': [...], 'std': [...]}`` on [0, 1] pixels, or ``None``.
    """
    layout: str
    prefix: str
    body: Dict[str, torch.Tensor]
    sources: Dict[str, str]
    normalization: Optional[Dict[str, List[float]]] = None
    normaliser_keys: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)


def layout_named(name: str) -> Layout:
    """The layout called ``name``.

    Raises:
        ValueError: ``name`` is not one of :data:`LAYOUTS`.
    """
    if name not in LAYOUTS:
        raise ValueError(f'unknown checkpoint layout {name!r}; choose one '
                         f'of {list(LAYOUTS)}')
    return LAYOUTS[name]


def resnet_prefix(key: str, pattern: 're.Pattern') -> Optional[str]:
    """The text before the first ResNet module name of ``key`` if all of
    it matches ``pattern`` (a prefix only at the start), else ``None``."""
    starts = [0] + [i + 1 for i, c in enumerate(key) if c == '.']
    for start in starts:
        if key.startswith(RESNET_MODULES, start) and \
                pattern.fullmatch(key[:start]):
            return key[:start]
    return None


def _find_prefix(keys: List[str], layout: Layout) -> str:
    pattern = re.compile(layout.prefixes)
    found = Counter(p for p in (resnet_prefix(k, pattern) for k in keys)
                    if p is not None)
    if not found:
        raise NoResNetKeysError(
            f'no key of this checkpoint is a ResNet key (conv1., bn1., '
            f'layer1-4., fc.) behind {layout.described} (the {layout.name} '
            f'layout); first keys: {keys[:5]}')
    ranked = found.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        raise NoResNetKeysError(
            f'ambiguous {layout.name} checkpoint: as many ResNet keys under '
            f'{ranked[0][0]!r} as under {ranked[1][0]!r}; keep one copy')
    return ranked[0][0]


def _normaliser(weights: Mapping[str, torch.Tensor], layout: Layout,
                prefix: str) -> Tuple[Optional[Wrapper], str, List[str]]:
    """The wrapper around the ResNet at ``prefix``, its outer prefix and
    its normaliser's keys (empty when the file has none)."""
    fitting = [w for w in layout.wrappers if prefix.endswith(w.body)]
    for wrapper in fitting:
        outer = prefix[:len(prefix) - len(wrapper.body)]
        keys = [outer + wrapper.normaliser + name
                for name in (wrapper.mean, wrapper.std)]
        if all(k in weights for k in keys):
            return wrapper, outer, keys
    if fitting:
        wrapper = fitting[0]
        return wrapper, prefix[:len(prefix) - len(wrapper.body)], []
    return None, prefix, []


def _values(tensor: torch.Tensor) -> List[float]:
    return [round(float(v), 6) for v in tensor.detach().flatten()]


def split_layout(weights: Mapping[str, torch.Tensor],
                 layout: str) -> Split:
    """Sort ``weights`` (a flat dict of tensors) by ``layout``.

    Raises:
        ValueError: unknown ``layout``.
        NoResNetKeysError: no ResNet keys behind the layout's prefixes, or two
            equally large copies.
    """
    spec = layout_named(layout)
    keys = list(weights)
    prefix = _find_prefix(keys, spec)
    wrapper, outer, normaliser_keys = _normaliser(weights, spec, prefix)
    pattern = re.compile(spec.prefixes)
    split = Split(spec.name, prefix, OrderedDict(), OrderedDict(),
                  normaliser_keys=normaliser_keys)
    if normaliser_keys:
        mean, std = (weights[k] for k in normaliser_keys)
        split.normalization = dict(mean=_values(mean), std=_values(std))
    dropped = tuple(outer + d for d in (wrapper.dropped if wrapper else ()))
    for key in keys:
        if key in normaliser_keys:
            continue
        if dropped and key.startswith(dropped):
            split.dropped.append(key)
        elif resnet_prefix(key, pattern) == prefix:
            name = key[len(prefix):]
            split.body[name] = weights[key]
            split.sources[name] = key
        else:
            split.unexpected.append(key)
    return split

r"""Adversarial training of any MMPretrain classifier, from config.

PGD-AT (Madry et al., `Towards Deep Learning Models Resistant to
Adversarial Attacks <https://arxiv.org/abs/1706.06083>`_, 2018), TRADES
(Zhang et al., `Theoretically Principled Trade-off between Robustness and
Accuracy <https://arxiv.org/abs/1901.08573>`_, 2019) and FGSM with a
random start (Wong et al., `Fast is better than free
<https://arxiv.org/abs/2001.03994>`_, 2020). Code consulted:
yaodongyu/TRADES, locuslab/fast_adversarial, MadryLab/cifar10_challenge
(details in :mod:`.adversarial_objectives`).
"""
import logging
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import BaseAlgorithm
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ...utils.pixel_space import (
    PIXEL_SCALE,
    PixelNormalize,
    PixelSpaceClassifier,
    check_pixel_range,
)
from .adversarial_objectives import (
    WHO,
    adversarial_examples,
    attack_mode,
    build_training_attack,
    check_attack_bn,
    check_beta,
    trades_kl,
)
from .kdiga_inputs import (
    member_normalization,
    split_data_preprocessor,
    states_preprocessor,
    to_rgb_of,
)
from .kdiga_objective import classifier_task_loss, gather_targets


def _scoped(cfg: Optional[dict], scope: Optional[str]) -> Optional[dict]:
    """The classifier's own preprocessor config, its type found in the
    classifier's scope (the algorithm builds it in MMRazor's)."""
    if not cfg:
        return None
    cfg = dict(cfg)
    kind = cfg.get('type', 'ClsDataPreprocessor')
    if isinstance(kind, str) and '.' not in kind:
        cfg['type'] = f'{scope or "mmpretrain"}.{kind}'
    return cfg


def _normalization(architecture: nn.Module,
                   stated: bool,
                   shared: Optional[PixelNormalize],
                   algorithm_to_rgb: bool,
                   who: str = WHO) -> PixelNormalize:
    """The classifier's own normalisation (its ``data_preprocessor``), else
    the config's top-level one (logged), else an error naming the key."""
    if stated:
        return member_normalization('student', architecture, True, None,
                                    algorithm_to_rgb, who)
    if shared is None:
        raise ValueError(
            f'{who}: model.architecture states no data_preprocessor and '
            'the config has no top-level one, so its normalisation cannot '
            'be known. Set model.architecture.data_preprocessor=dict('
            "type='ClsDataPreprocessor', mean=[...], std=[...]) (a stock "
            'MMPretrain config keeps it at its top level: data_preprocessor='
            "_base_.data_preprocessor), or dict(type='ClsDataPreprocessor') "
            'for a model that takes [0, 255] pixels as they are')
    norm = PixelNormalize(shared.mean * PIXEL_SCALE, shared.std * PIXEL_SCALE)
    print_log(
        f'{who}: model.architecture states no data_preprocessor; it '
        f"normalises with model.data_preprocessor's {norm.extra_repr()} "
        "(the config's top-level data_preprocessor)",
        logger='current',
        level=logging.INFO)
    return norm


@MODELS.register_module()
class AdversarialTraining(BaseAlgorithm):
    r"""Adversarial training of a classifier :math:`f_\theta` in pixel
    space.

    For the augmented batch :math:`x \in [0, 1]` (from the scale-only
    ``data_preprocessor``), labels :math:`y` and the ε-ball
    :math:`B_\epsilon(x)` of ``model.attack`` (L∞ or L2, in the ``[0, 1]``
    scale), ``method`` minimises

    * ``'pgd_at'`` (Madry et al. 2018): :math:`\mathrm{CE}(f_\theta(x'),
      y)`, :math:`x' \approx \arg\max_{x' \in B_\epsilon(x)}
      \mathrm{CE}(f_\theta(x'), y)` by PGD from a uniform random start
      (CIFAR defaults: ε = 8/255, step 2/255, 10 steps; the Madry lab's
      CIFAR challenge used 7);
    * ``'trades'`` (Zhang et al. 2019): :math:`\mathrm{CE}(f_\theta(x), y)
      + \beta\,\frac{1}{B}\sum_i \mathrm{KL}(\mathrm{softmax} f_\theta(x_i)
      \,\|\, \mathrm{softmax} f_\theta(x'_i))`, :math:`x'` maximising that
      KL by PGD from :math:`x + 0.001\,\mathcal{N}(0, I)` (clipped to
      ``[0, 1]``), β = 6, ε = 8/255, step 2/255, 10 steps (the repo's
      CIFAR script: ε = 0.031, step 0.007). The KL is summed over classes
      and divided by the batch size, the repo's ``(1/batch_size)·
      KLDivLoss(size_average=False)`` (= ``reduction='batchmean'``), with
      gradient through both softmaxes as there;
    * ``'fgsm_rs'`` (Wong et al. 2020): :math:`\mathrm{CE}(f_\theta(x +
      \delta), y)`, :math:`\delta = \mathrm{clip}_{[-\epsilon,\epsilon]}
      (\delta_0 + \alpha\,\mathrm{sign}\nabla_\delta \mathrm{CE}(f_\theta(
      x + \delta_0), y))`, :math:`\delta_0 \sim U(-\epsilon, \epsilon)`,
      :math:`x + \delta` clipped to ``[0, 1]``, α = 1.25ε (``FGSMAttack``
      with ``random_start=True``).

    CE is the classifier head's own loss (its ``loss_weight``, label
    smoothing, soft targets), applied to logits computed here. Loss keys:
    ``adv.loss`` (PGD-AT, FGSM-RS); ``natural.loss`` and ``robust.loss_kl``
    (TRADES, the latter already times β).

    **Pixel space.** ``model.data_preprocessor`` only scales to ``[0, 1]``
    (``mean=[0, 0, 0], std=[255, 255, 255]``, the config's top-level one
    turned into that, channel conversion kept); the classifier normalises
    with its own ``data_preprocessor`` (or, stating none, with the
    top-level one's mean/std), inside :meth:`pixel_classifier`, the view
    both the training attack and the robust loops/hooks attack.

    **BatchNorm.** The inner maximisation never updates the parameters'
    gradients (they are frozen for it) and, by default
    (``attack_bn='eval'``), runs wholly in eval mode: BatchNorm uses and
    keeps its running statistics, Dropout is off (TRADES' ``model.eval()``
    for the attack). ``'train'``: batch statistics (and Dropout) during the
    attack, running statistics restored afterwards; ``'train_update'``:
    batch statistics and every attack forward updates them (the model left
    in train mode, as fast_adversarial's FGSM code does). The outer
    forwards run in the model's own mode (train mode in training), so the
    running statistics move only with what the loss sees: one forward on
    :math:`x'` (PGD-AT, FGSM-RS); one on :math:`x`, then one on :math:`x'`
    (TRADES; the repo forwards :math:`x` twice, same loss).

    Args:
        architecture (dict | BaseModel): Any MMPretrain classifier.
        method (str): ``'pgd_at'``, ``'trades'`` or ``'fgsm_rs'``.
            Defaults to ``'pgd_at'``.
        attack (dict, optional): The training attack, an ``ATTACKS``
            config: ``PGDAttack`` (``eps``, ``alpha``, ``steps``, ``norm``,
            ``random_start``, ``loss``) for PGD-AT and TRADES,
            ``FGSMAttack(random_start=True)`` for FGSM-RS. Defaults to
            the method's defaults above. Random starts come from the
            global RNG (new each step; ``seed`` is not used).
        beta (float, optional): TRADES' β. Defaults to 6 (refused for the
            other methods).
        attack_bn (str): ``'eval'``, ``'train'`` or ``'train_update'``
            (above). Defaults to ``'eval'``.
        data_preprocessor (dict, optional): Turned into the scale-only one;
            its mean/std normalise a classifier that states none. Defaults
            to the classifier's own (scale-only likewise).
        init_cfg (dict, optional): Passed to ``BaseModel``.

    Example:
        >>> model = dict(
        ...     _scope_='mmrazor', type='AdversarialTraining',
        ...     method='trades', beta=6.0,
        ...     attack=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255,
        ...                 steps=10),
        ...     architecture=resnet20_cifar)
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 method: str = 'pgd_at',
                 attack: Optional[dict] = None,
                 beta: Optional[float] = None,
                 attack_bn: str = 'eval',
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        who = type(self).__name__
        built_attack = build_training_attack(method, attack, who)
        checked_beta = check_beta(method, beta, who)
        check_attack_bn(attack_bn, who)
        stated = states_preprocessor(architecture)
        shared = None
        if not isinstance(data_preprocessor, nn.Module):
            source = data_preprocessor
            if source is None and isinstance(architecture, dict):
                source = _scoped(architecture.get('data_preprocessor'),
                                 architecture.get('_scope_'))
            data_preprocessor, shared = split_data_preprocessor(source)
        super().__init__(architecture, data_preprocessor, init_cfg)
        head = getattr(self.architecture, 'head', None)
        if not (hasattr(head, '_get_loss')
                or hasattr(self.architecture, '_get_loss')):
            raise TypeError(
                f'{who}: model.architecture '
                f'({type(self.architecture).__name__}) has no '
                'head._get_loss (nor _get_loss) to compute its task loss '
                'from logits; use an MMPretrain ImageClassifier, '
                'TimmClassifier or HuggingFaceClassifier')
        self.method = method
        self.attack = built_attack
        self.beta = checked_beta
        self.attack_bn = attack_bn
        self._normalize = _normalization(self.architecture, stated, shared,
                                         to_rgb_of(self.data_preprocessor),
                                         who)
        self._pixels_checked = False

    # -- pixel-space view --------------------------------------------------
    def pixel_classifier(self,
                         member: str = 'student') -> PixelSpaceClassifier:
        """``x ∈ [0, 1] ↦ logits`` of the trained classifier, its
        normalisation inside (the training attack, the robust loops and
        hooks use it)."""
        if member == 'student':
            return PixelSpaceClassifier(self.architecture, self._normalize)
        raise ValueError(
            f"{type(self).__name__} has only the trained classifier "
            f"('student'), got member={member!r}; set "
            'evaluate_teacher=False')

    def _forward(self, batch_inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None):
        return self.pixel_classifier()(batch_inputs)

    def _predict(self, batch_inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None):
        return self.architecture(
            self._normalize(batch_inputs), data_samples, mode='predict')

    # -- training step -----------------------------------------------------
    def adversarial_examples(self, x: torch.Tensor,
                             target: torch.Tensor) -> torch.Tensor:
        """The inner maximisation's :math:`x'` for pixels ``x`` and targets
        (class indices or soft targets), the classifier in its attack
        mode (``attack_bn``) and restored afterwards."""
        classifier = self.pixel_classifier()
        with attack_mode(self.architecture, self.attack_bn):
            return adversarial_examples(self.method, classifier, x.detach(),
                                        target, self.attack)

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> Dict[str, torch.Tensor]:
        """The method's outer loss at its inner maximisation's ``x'`` (see
        the class docstring)."""
        if not self._pixels_checked:  # a config error shows on batch one
            check_pixel_range(type(self).__name__, batch_inputs)
            self._pixels_checked = True
        target = gather_targets(data_samples)
        x_adv = self.adversarial_examples(batch_inputs, target)
        classifier = self.pixel_classifier()
        if self.method != 'trades':
            z_adv = classifier(x_adv)
            return add_prefix(
                classifier_task_loss(
                    self.architecture, z_adv, data_samples,
                    who=type(self).__name__), 'adv')
        z = classifier(batch_inputs)
        z_adv = classifier(x_adv)
        losses = add_prefix(
            classifier_task_loss(
                self.architecture, z, data_samples, who=type(self).__name__),
            'natural')
        losses['robust.loss_kl'] = self.beta * trades_kl(z, z_adv)
        return losses

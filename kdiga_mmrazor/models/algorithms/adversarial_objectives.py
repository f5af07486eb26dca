r"""The pieces of adversarial training that ``AdversarialTraining``
assembles: the training attack checked at build, the model's mode while it
runs, the three inner maximisations and TRADES' outer KL term.

Everything is in pixel space: :math:`x \in [0, 1]`, the model
:math:`f` a ``x ↦ logits`` classifier with its own normalisation inside,
ε and step sizes in the ``[0, 1]`` scale.

Inner maximisations (:func:`adversarial_examples`), each with the
projection :math:`\Pi_\epsilon` onto the ε-ball of :math:`x` and then
:math:`[0, 1]` (:func:`kdiga_mmrazor.attacks.project`):

* ``'pgd_at'`` (Madry et al. 2018): :math:`x^0 = \mathrm{clip}_{[0,1]}
  (x + \delta_0)`, :math:`\delta_0 \sim U[-\epsilon, \epsilon]^d` (the
  attack's ``random_start``; :math:`x^0 = x` without it), then :math:`T`
  steps :math:`x^{t+1} = \Pi_\epsilon(x^t + \alpha\,\mathrm{sign}
  \nabla_x \mathrm{CE}(f(x^t), y))` (or the attack's ``'cw'`` margin);
* ``'trades'`` (Zhang et al. 2019): :math:`x^0 = \mathrm{clip}_{[0,1]}
  (x + 0.001\,\mathcal{N}(0, I))`, then :math:`T` steps ascending
  :math:`\sum_i \mathrm{KL}(\mathrm{softmax} f(x_i) \,\|\,
  \mathrm{softmax} f(x^t_i))` with :math:`f(x)` fixed (computed once,
  without gradient);
* ``'fgsm_rs'`` (Wong et al. 2020): :math:`\delta_0 \sim U[-\epsilon,
  \epsilon]^d`, one step :math:`x' = \Pi_\epsilon(x + \delta_0 + \alpha\,
  \mathrm{sign}\nabla \mathrm{CE})`, :math:`\alpha = 1.25\epsilon`.

Random starts are drawn from the global RNG (seeded by the runner's
``randomness``), so every step draws new ones; the attack's own ``seed``
is for evaluation and is not used here.

Code consulted: yaodongyu/TRADES ``trades.py`` (``trades_loss``: attack in
``model.eval()``, ``x + 0.001·randn`` start, ``KLDivLoss(size_average=
False)`` inside, ``(1 / batch_size)·KL_sum`` outside) and
``train_trades_cifar10.py`` (ε = 0.031, step 0.007, 10 steps, β = 6);
locuslab/fast_adversarial ``CIFAR10/train_fgsm.py`` (``delta.uniform_(-ε,
ε)``, clamp into the image, ``α = 10/255`` for ε = 8/255, the model left in
train mode for the attack); MadryLab/cifar10_challenge (ε = 8, step 2,
random start, in the 0–255 scale).
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from ...attacks import FGSMAttack, PGDAttack, build_attack, pgd, random_start
from ...attacks.checks import check_step_within_radius
from ...utils.frozen_eval import frozen_eval, frozen_parameters
from .kdiga_objective import at_least_fp32

METHODS = ('pgd_at', 'trades', 'fgsm_rs')
ATTACK_BN = ('eval', 'train', 'train_update')
TRADES_START_STD = 0.001
DEFAULT_ATTACKS = dict(
    pgd_at=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    trades=dict(type='PGDAttack', eps=8 / 255, alpha=2 / 255, steps=10),
    fgsm_rs=dict(type='FGSMAttack', eps=8 / 255, random_start=True))
WHO = 'AdversarialTraining'

Attack = Union[PGDAttack, FGSMAttack]


def build_training_attack(method: str,
                          cfg: Optional[dict],
                          who: str = WHO) -> Attack:
    """The attack of ``method`` from ``model.attack`` (``None``: the
    method's default, :data:`DEFAULT_ATTACKS`), checked for what the method
    needs; ``who``, the algorithm's name, for messages.

    Raises:
        ValueError/TypeError/KeyError: an unknown ``method``, an attack the
            method cannot train with, or a value the attack refuses (the
            message names the key and the fix).
    """
    if method not in METHODS:
        raise ValueError(f'{who}: model.method must be one of {METHODS}, '
                         f'got {method!r}')
    if cfg is None:
        cfg = DEFAULT_ATTACKS[method]
    attack = build_attack(cfg, 'model.attack')
    kind = type(attack).__name__
    if method == 'fgsm_rs':
        if not isinstance(attack, FGSMAttack) or not attack.random_start:
            raise ValueError(
                f"{who}: method='fgsm_rs' needs model.attack=dict("
                "type='FGSMAttack', eps=..., random_start=True) (got "
                f'{kind}, random_start={getattr(attack, "random_start", None)}'
                '); FGSM from x itself overfits catastrophically (Wong et '
                "al. 2020); for a PGD attack use method='pgd_at'")
        return attack
    if not isinstance(attack, PGDAttack):
        hint = (" (FGSM training: method='fgsm_rs')"
                if isinstance(attack, FGSMAttack) else '')
        raise ValueError(
            f"{who}: method={method!r} needs model.attack=dict(type="
            f"'PGDAttack', ...), got {kind}{hint}")
    if attack.restarts != 1:
        raise ValueError(
            f'{who}: model.attack.restarts={attack.restarts}; training '
            'attacks run once per step, set restarts=1')
    check_step_within_radius(who, attack)
    if method == 'trades':
        if attack.loss != 'ce':
            raise ValueError(
                f"{who}: method='trades' ascends KL(f(x) || f(x')), not the "
                f"attack's loss; remove model.attack.loss={attack.loss!r}")
        if not attack.random_start:
            raise ValueError(
                f"{who}: method='trades' with model.attack.random_start="
                "False would start at x' = x, where KL(f(x) || f(x')) has "
                'a zero gradient and the attack never moves; remove the '
                'key (TRADES starts at x + 0.001·N(0, I))')
    return attack


def check_attack_bn(value: str, who: str = WHO) -> str:
    """``model.attack_bn`` (ValueError naming the choices otherwise)."""
    if value not in ATTACK_BN:
        raise ValueError(
            f'{who}: model.attack_bn must be one of {ATTACK_BN}, got '
            f"{value!r}: 'eval' (running statistics used, not updated), "
            "'train' (batch statistics, running statistics restored after "
            "the attack), 'train_update' (batch statistics, running "
            'statistics updated by every attack forward)')
    return value


def check_beta(method: str,
               beta: Optional[float],
               who: str = WHO) -> Optional[float]:
    """TRADES' β: a finite number ``>= 0`` (default 6); refused for the
    other methods, which have no such term."""
    if method != 'trades':
        if beta is not None:
            raise ValueError(
                f"{who}: model.beta weighs TRADES' KL term; method="
                f'{method!r} has none, remove model.beta')
        return None
    if beta is None:
        return 6.0
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not (
            0 <= float(beta) < float('inf')):
        raise ValueError(f'{who}: model.beta must be a finite number >= 0, '
                         f'got {beta!r}')
    return float(beta)


def _norm_buffers(model: nn.Module):
    return [(m, name) for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._NormBase)
            for name in ('running_mean', 'running_var', 'num_batches_tracked')
            if getattr(m, name, None) is not None]


@contextmanager
def attack_mode(model: nn.Module, bn: str) -> Iterator[nn.Module]:
    """The model as the inner maximisation sees it; restored afterwards.

    Parameters never require grad for the duration (only ∂/∂x is taken).
    ``bn='eval'``: every module in eval mode (:func:`frozen_eval`:
    BatchNorm uses and keeps its running statistics, Dropout off).
    ``'train'``: the model's own modes (train mode in training: batch
    statistics, Dropout on), its BatchNorm running statistics restored
    after. ``'train_update'``: the same, statistics left as the attack's
    forwards updated them (fast_adversarial's code).
    """
    if bn == 'eval':
        with frozen_eval(model):
            yield model
        return
    saved = [(m, name, getattr(m, name).clone())
             for m, name in _norm_buffers(model)] if bn == 'train' else []
    try:
        with frozen_parameters(model):
            yield model
    finally:
        for m, name, value in saved:
            getattr(m, name).copy_(value)


def kl_per_sample(p_clean: torch.Tensor,
                  logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\mathrm{KL}(p_i \,\|\, \mathrm{softmax}(z_i))
    = \sum_c p_{ic} (\log p_{ic} - \log \mathrm{softmax}(z_i)_c)`,
    shape ``(B,)`` (``p`` may require grad)."""
    log_q = F.log_softmax(at_least_fp32(logits), dim=1)
    return F.kl_div(log_q, p_clean, reduction='none').sum(dim=1)


def trades_kl(logits: torch.Tensor, logits_adv: torch.Tensor) -> torch.Tensor:
    r"""TRADES' outer term :math:`\frac{1}{B}\sum_i \mathrm{KL}(
    \mathrm{softmax} f(x_i) \,\|\, \mathrm{softmax} f(x'_i))` (the repo's
    ``(1.0 / batch_size) * KLDivLoss(size_average=False)``, i.e.
    ``reduction='batchmean'``), with gradient through both sides as in the
    repo (its target ``F.softmax(model(x_natural))`` is not detached)."""
    p = F.softmax(at_least_fp32(logits), dim=1)
    return kl_per_sample(p, logits_adv).mean()


def attack_labels(target: torch.Tensor, attack: Attack) -> torch.Tensor:
    """Labels for the attack's loss: class indices, or soft targets
    (batch augments) for CE; the margin loss takes their argmax."""
    if target.dim() > 1 and attack.loss == 'cw':
        return target.argmax(dim=1)
    return target


def adversarial_examples(method: str, model: nn.Module, x: torch.Tensor,
                         target: torch.Tensor,
                         attack: Attack) -> torch.Tensor:
    """The inner maximisation of ``method`` (module docstring) on a model
    already in its attack mode (:func:`attack_mode`); returns ``x'``
    (detached, in the ε-ball of ``x`` and in ``[0, 1]``)."""
    x = x.detach()
    eps, norm = attack.eps, attack.norm
    with torch.enable_grad():
        if method == 'trades':
            with torch.no_grad():
                p_clean = F.softmax(at_least_fp32(model(x)), dim=1)
            noise = torch.randn(x.shape, device=x.device,
                                dtype=torch.float32).to(x.dtype)
            x_init = (x + TRADES_START_STD * noise).clamp(0, 1)
            return pgd(model, x, target, eps, attack.alpha, attack.steps,
                       norm, x_init=x_init,
                       objective=lambda z: kl_per_sample(p_clean, z))
        y = attack_labels(target, attack)
        rs = method == 'fgsm_rs' or attack.random_start
        x_init = random_start(x, eps, norm, None) if rs else None
        steps = 1 if method == 'fgsm_rs' else attack.steps
        return pgd(model, x, y, eps, attack.alpha, steps, norm, attack.loss,
                   x_init)

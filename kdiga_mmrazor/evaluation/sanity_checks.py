"""Warnings for signs that a robustness evaluation cannot be trusted.

The checks follow AutoAttack's ``autoattack/checks.py`` (fra31/auto-attack,
as packaged in ``pyautoattack`` 0.2.0: zero gradients, randomised outputs;
its ``flags_doc.md`` explains each flag) and the checklist of Carlini et
al., `On Evaluating Adversarial Robustness
<https://arxiv.org/abs/1902.06705>`_ (2019): iterative attacks must beat
single-step ones, accuracy must fall as ε grows, and a large enough ε must
break (nearly) every input. Each failed check warns once per checker
through MMEngine's logger; nothing is raised, since a warning is a reason
to look, not proof of a flaw. Where we differ from AutoAttack: zero
gradients warn above a fraction of inputs (a few very confident inputs
can underflow to a zero gradient in float32), and the comparisons of
attacks use the metrics of the whole evaluation.

One check is not a warning: :func:`refuse_non_finite_logits` stops the
evaluation of a model whose first-batch logits are NaN or inf, since there
is nothing to score.
"""
import logging
from typing import Dict, Iterable, Optional, Sequence, Set, Tuple

import torch
from mmengine.logging import print_log
from torch import nn

CARLINI = ('Carlini et al. 2019, "On Evaluating Adversarial Robustness", '
           'arXiv:1902.06705')
AUTOATTACK = ('AutoAttack, fra31/auto-attack autoattack/checks.py and '
              'flags_doc.md')


def attack_strength(attack) -> Optional[float]:
    """The attack's own ``strength`` (see :attr:`BaseAttack.strength`), or
    None when it states none (not compared)."""
    strength = getattr(attack, 'strength', None)
    return None if strength is None else float(strength)


def _threat(attack) -> Tuple[str, float]:
    return attack.norm, round(float(attack.eps), 9)


def _family(attack) -> Tuple:
    """Everything but ε (and what scales with it) that defines an attack."""
    settings = attack.settings() if hasattr(attack, 'settings') else {}
    return (type(attack).__name__, ) + tuple(
        sorted((k, repr(v)) for k, v in settings.items()
               if k not in ('eps', 'name', 'alpha')))


def refuse_non_finite_logits(logits: torch.Tensor, member: str,
                             owner: str) -> None:
    """A model with NaN/inf logits is not scored (always on, also with
    ``sanity_checks=False``): the argmax of NaN is class 0, which reads as
    chance-level accuracy instead of a broken model.

    Raises:
        ValueError: some logit of the first batch is not finite.
    """
    finite = torch.isfinite(logits)
    if not bool(finite.all()):
        raise ValueError(
            f'{owner}: the {member}\'s logits on the first batch are not '
            f'finite ({int((~finite).sum())} of {finite.numel()} are NaN '
            'or inf), so it is not scored: its weights are not finite (a '
            'diverged run: check its training log) or its checkpoint does '
            'not hold what it should')


class RobustSanityChecks:
    """Sanity checks of a robustness evaluation; each warns once.

    Args:
        tolerance (float): Percentage points by which a stronger attack
            (or a larger ε) may leave more samples correct before the
            ordering checks warn (sampling noise). Defaults to 0.5.
        zero_grad_fraction (float): Warn when at least this fraction of
            the checked inputs has an input gradient that is exactly zero.
            Defaults to 0.05.
        random_tol (float): Warn when two forward passes on the same
            batch differ by more than this, per sample, in the L2 distance
            of their L2-normalised logits (AutoAttack's test uses 1e-4), or
            predict differently. Defaults to 1e-4.
        large_eps (float): L∞ ε from which an attack must break nearly
            every input. Defaults to 0.3 (raise it for datasets, such as
            MNIST, where 0.3 is the threat model).
        large_eps_max_acc (float): "Nearly every": the largest accuracy
            (percent) tolerated at ``large_eps``. Defaults to 1.0.
    """

    def __init__(self,
                 tolerance: float = 0.5,
                 zero_grad_fraction: float = 0.05,
                 random_tol: float = 1e-4,
                 large_eps: float = 0.3,
                 large_eps_max_acc: float = 1.0) -> None:
        self.tolerance = float(tolerance)
        self.zero_grad_fraction = float(zero_grad_fraction)
        self.random_tol = float(random_tol)
        self.large_eps = float(large_eps)
        self.large_eps_max_acc = float(large_eps_max_acc)
        self.warned: Set[Tuple[str, str]] = set()

    def warn(self, check: str, who: str, message: str) -> bool:
        """Log ``message`` unless ``(check, who)`` has warned already."""
        if (check, who) in self.warned:
            return False
        self.warned.add((check, who))
        print_log(
            f'Robustness sanity check failed ({check}, {who}): {message}',
            logger='current',
            level=logging.WARNING)
        return True

    def check_random_output(self,
                            model: nn.Module,
                            x: torch.Tensor,
                            who: str = 'model',
                            logits: Optional[torch.Tensor] = None) -> bool:
        """Two forward passes on the same ``x`` must agree (eval mode).

        Args:
            model (nn.Module): ``x ↦ logits``.
            x (Tensor): A batch of inputs.
            who (str): Names the model in the warning.
            logits (Tensor, optional): ``model(x)`` already computed, the
                first of the two passes.

        Returns:
            bool: Whether the check failed.
        """
        with torch.no_grad():
            first = model(x) if logits is None else logits.detach()
            second = model(x)
        normed = [
            z.flatten(1) / (z.flatten(1).norm(dim=1, keepdim=True) + 1e-10)
            for z in (first, second)
        ]
        diff = (normed[0] - normed[1]).norm(dim=1).max().item()
        flips = (first.argmax(1) != second.argmax(1)).sum().item()
        if diff <= self.random_tol and flips == 0:
            return False
        self.warn(
            'random_output', who,
            f'two forward passes on the same {x.shape[0]} inputs differ '
            f'(max normalised-logit distance {diff:.3g}, {flips} '
            'predictions change). A randomised model makes every '
            'single-sample attack unreliable: use expectation over '
            f'transformation and AutoAttack\'s version="rand" ({AUTOATTACK}; '
            f'{CARLINI}, on randomised defences), or fix the model\'s '
            'randomness (dropout or BatchNorm in train mode?)')
        return True

    def check_zero_gradients(self, grad: torch.Tensor,
                             who: str = 'model') -> bool:
        """Input gradients that are exactly zero (per sample) must be rare.

        Returns:
            bool: Whether the check failed.
        """
        zero = grad.flatten(1).abs().sum(1) == 0
        n_zero, n = int(zero.sum().item()), zero.numel()
        if n == 0 or n_zero / n < self.zero_grad_fraction:
            return False
        self.warn(
            'zero_gradients', who,
            f'{n_zero} of {n} inputs have an input gradient of exactly 0 '
            f'(threshold {self.zero_grad_fraction:.0%}). Gradient-based '
            'attacks cannot move from them, so their robust accuracy is '
            'an overestimate (gradient masking: non-differentiable or '
            'detached operations, saturated softmax); evaluate with a '
            f'gradient-free attack such as Square ({AUTOATTACK}; {CARLINI})')
        return True

    def check_attack_order(self,
                           attacks: Sequence,
                           metrics: Dict[str, float],
                           prefix: str = 'robust',
                           who: str = 'model') -> bool:
        """Stronger attacks, and larger ε, must not leave more correct.

        Compares ``{prefix}/{name}/acc`` of attacks with the same norm and
        ε by :func:`attack_strength` (PGD-k below FGSM, AutoAttack below
        PGD), and of attacks that differ only in ε.

        Returns:
            bool: Whether a check failed.
        """
        failed = False
        accs = {
            a.name: metrics.get(f'{prefix}/{a.name}/acc')
            for a in attacks
        }
        for weak, strong in self._pairs(attacks):
            acc_w, acc_s = accs[weak.name], accs[strong.name]
            if acc_w is None or acc_s is None:
                continue
            if acc_s <= acc_w + self.tolerance:
                continue
            failed = True
            if _threat(weak) == _threat(strong):
                self.warn(
                    'stronger_attack_weaker', who,
                    f'{prefix}/{strong.name}/acc = {acc_s:.2f} is above '
                    f'{prefix}/{weak.name}/acc = {acc_w:.2f} at the same '
                    f'norm and eps, though {strong.name} is the stronger '
                    'attack. Iterative attacks must do at least as well as '
                    'single-step ones, and AutoAttack as well as PGD; '
                    'otherwise the gradients mislead the attack (gradient '
                    f'masking) or the attack is misconfigured ({CARLINI})')
            else:
                self.warn(
                    'accuracy_grows_with_eps', who,
                    f'{prefix}/{strong.name}/acc = {acc_s:.2f} is above '
                    f'{prefix}/{weak.name}/acc = {acc_w:.2f} although the '
                    'same attack has the larger eps. Attack success must '
                    'increase with the perturbation budget; otherwise the '
                    f'attack is not optimising properly ({CARLINI})')
        return failed

    def _pairs(self, attacks: Sequence) -> Iterable[Tuple[object, object]]:
        """``(weaker, stronger)`` pairs worth comparing."""
        for a in attacks:
            for b in attacks:
                if a is b or a.norm != b.norm:
                    continue
                if _threat(a) == _threat(b):
                    s_a, s_b = attack_strength(a), attack_strength(b)
                    if s_a is not None and s_b is not None and s_a < s_b:
                        yield a, b
                elif a.eps < b.eps and _family(a) == _family(b):
                    yield a, b

    def check_large_eps(self,
                        attacks: Sequence,
                        metrics: Dict[str, float],
                        prefix: str = 'robust',
                        who: str = 'model',
                        always: Sequence[str] = ()) -> bool:
        """Attacks at a large ε must break nearly every input.

        Checks every L∞ attack with ``eps >= large_eps`` and every attack
        named in ``always`` (an explicit check attack, any norm).

        Returns:
            bool: Whether the check failed.
        """
        failed = False
        for attack in attacks:
            large = attack.norm == 'linf' and attack.eps >= self.large_eps
            if not (large or attack.name in always):
                continue
            acc = metrics.get(f'{prefix}/{attack.name}/acc')
            if acc is None or acc <= self.large_eps_max_acc:
                continue
            failed = True
            self.warn(
                'large_eps_not_broken', who,
                f'{prefix}/{attack.name}/acc = {acc:.2f} at {attack.norm} '
                f'eps={attack.eps:.4g}, above {self.large_eps_max_acc:g}. '
                'A perturbation this large should break (nearly) every '
                'input; if it does not, the attack cannot find the '
                'adversarial examples that exist and its numbers at small '
                f'eps are suspect too ({CARLINI}: attack success should '
                'reach 100% as the distortion bound grows)')
        return failed

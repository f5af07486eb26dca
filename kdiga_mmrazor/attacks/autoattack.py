"""AutoAttack through the official implementation (``pyautoattack``).

From `Reliable evaluation of adversarial robustness with an ensemble of
diverse parameter-free attacks <https://arxiv.org/abs/2003.01690>`_ (Croce &
Hein, 2020). Code consulted: fra31/auto-attack (``autoattack/autoattack.py``,
``autoattack/checks.py``) as packaged on PyPI as ``pyautoattack`` 0.2.0, and
RobustBench's use of it (9 target classes). We run the package itself;
where we differ from calling it by hand:

* the device comes from the inputs (never a ``'cuda'`` default), inputs are
  made contiguous (``channels_last`` batches crash its ``.view`` calls);
* APGD-T/FAB-T target at most ``C − 1`` classes (9 with more than 10
  classes, as RobustBench; AutoAttack's own 5 for APGD-T in its L1
  ``standard`` version);
* its global-RNG seeding (``torch.manual_seed``) is undone afterwards;
* its log (logger ``auto-attack``, mostly DEBUG) goes to MMEngine's current
  logger at INFO;
* the returned images are re-checked with the model: a prediction that is
  not the one AutoAttack recorded raises (the known pitfall of models
  whose output depends on the batch, or is random).
"""
import logging
import math
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from ..registry import ATTACKS
from .base import BaseAttack, eps_label

AA_NORMS = {'linf': 'Linf', 'l2': 'L2', 'l1': 'L1'}
AA_ATTACKS = ('apgd-ce', 'apgd-dlr', 'apgd-t', 'fab', 'fab-t', 'square')
VERSIONS = ('standard', 'plus', 'custom')
MAX_TARGETS = 9
# fewest classes each attack's loss needs (DLR sorts the top 3 logits,
# targeted DLR the top 4)
MIN_CLASSES = {'apgd-dlr': 3, 'apgd-t': 4}


def _import_pyautoattack():
    try:
        import pyautoattack
    except ImportError as e:  # pragma: no cover
        raise ImportError(
            'AutoAttack needs the official implementation: pip install '
            'pyautoattack') from e
    return pyautoattack


class _ToMMEngineLogger(logging.Handler):
    """Forwards ``auto-attack`` records to MMEngine's current logger."""

    def emit(self, record: logging.LogRecord) -> None:
        print_log(
            f'AutoAttack: {record.getMessage()}',
            logger='current',
            level=max(record.levelno, logging.INFO))


@contextmanager
def _routed_log(verbose: bool) -> Iterator[None]:
    logger = logging.getLogger('auto-attack')
    saved = logger.level, logger.propagate
    handler = _ToMMEngineLogger(
        level=logging.DEBUG if verbose else logging.WARNING)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _set_apgd_n_iter(apgd, n_iter: int) -> None:
    """``n_iter`` and the checkpoints APGD derives from it at init."""
    apgd.n_iter = n_iter
    apgd.n_iter_orig = n_iter
    apgd.n_iter_2 = max(int(0.22 * n_iter), 1)
    apgd.n_iter_min = max(int(0.06 * n_iter), 1)
    apgd.size_decr = max(int(0.03 * n_iter), 1)


def perturbation_size(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """``‖δ_i‖`` per sample in ``norm`` (``'linf'``, ``'l2'``, ``'l1'``)."""
    flat = delta.reshape(delta.shape[0], -1)
    p = {'linf': float('inf'), 'l2': 2, 'l1': 1}[norm]
    return flat.norm(p=p, dim=1)


@ATTACKS.register_module()
class AutoAttack(BaseAttack):
    r"""AutoAttack (Croce & Hein, 2020), run by ``pyautoattack``.

    For a model :math:`f` on images :math:`x \in [0, 1]^{C \times H \times
    W}` (pixel space, its normalisation inside :math:`f`) and attacks
    :math:`A_1, \dots, A_K` (``standard``: APGD-CE, APGD-T, FAB-T, Square
    with 5,000 queries), each run only on the points still robust after the
    previous ones, a point is robust iff

    .. math::
        \arg\max_j f_j(x) = y \;\wedge\; \forall k:\;
        \arg\max_j f_j(A_k(x)) = y, \qquad
        \|A_k(x) - x\|_p \le \epsilon,\; A_k(x) \in [0, 1]^d,

    and the returned image of a broken point is the first :math:`A_k(x)`
    that breaks it (``x`` itself for a misclassified or robust point).
    APGD-T and FAB-T target the :math:`n_t` classes of highest logit after
    :math:`y`: :math:`n_t = \min(9, n_{cls} - 1)` (RobustBench; 9 is also
    AutoAttack's own), except APGD-T in AutoAttack's L1 ``standard``, which
    uses its own :math:`\min(5, n_{cls} - 1)`. In the L1 ``standard`` version
    AutoAttack also runs APGD with 5 restarts on an ε-schedule
    (3ε, 2ε, ε); Square is run for every norm.

    After the attack the model is re-run on the returned images: every
    prediction must be the one AutoAttack recorded (so the robust accuracy
    :math:`\frac{1}{B}\sum_i [\hat y_i = y_i]` it reported is the one a
    metric will measure), the images must stay in :math:`[0, 1]` and within
    ε; otherwise a ``RuntimeError`` says which check failed.

    Names: ``autoattack_linf_8`` (``standard``), ``autoattack-plus_…``;
    a custom list joins the attack names without hyphens,
    ``autoattack-apgdce-apgdt_linf_8``. Non-default budgets are appended:
    ``-it{n_iter}``, ``-r{n_restarts}``, ``-q{n_queries}``
    (``autoattack-apgdce-it10_linf_8``).

    Args:
        eps (float): ε in the ``[0, 1]`` pixel scale (L∞ ``8 / 255``, not 8;
            L2 e.g. ``0.5``; L1 e.g. ``12``): L∞ at most 1, L2/L1 at most
            the image cube's diameter (:math:`\sqrt{CHW}`, :math:`CHW`),
            checked at the call.
        norm (str): ``'linf'``, ``'l2'`` or ``'l1'``. Defaults to ``'linf'``.
        version (str, optional): ``'standard'``, ``'plus'`` or ``'custom'``.
            Defaults to ``'custom'`` if ``attacks_to_run`` is given, else
            ``'standard'``.
        attacks_to_run (Sequence[str], optional): For ``'custom'``: a
            subset of ``'apgd-ce'``, ``'apgd-dlr'``, ``'apgd-t'``, ``'fab'``,
            ``'fab-t'``, ``'square'``, run in that order with
            ``pyautoattack``'s constructor budgets (APGD-CE/-DLR and FAB with
            5 restarts, 100 iterations; Square 5,000 queries). Defaults to
            None.
        n_target_classes (int, optional): Target classes of APGD-T and
            FAB-T, at most ``n_cls − 1``. Defaults to None (the rule above).
        n_iter (int, optional): Iterations of APGD and FAB. Defaults to None
            (AutoAttack's 100).
        n_restarts (int, optional): Restarts of untargeted APGD and FAB.
            Defaults to None (the version's own).
        n_queries (int, optional): Queries of Square. Defaults to None
            (5,000).
        verbose (bool): Route AutoAttack's progress lines to the MMEngine
            logger (warnings always are). Defaults to True.
        seed (int): AutoAttack's seed. Defaults to 0.
        name (str, optional): Metric-key name. Defaults to the scheme above.

    Note:
        AutoAttack seeds the global torch RNG; the state is restored after
        each call, so the attack leaves the RNG as it found it.

    Example:
        >>> attack = ATTACKS.build(dict(type='AutoAttack', eps=8 / 255))
        >>> attack.name
        'autoattack_linf_8'
        >>> cheap = dict(type='AutoAttack', eps=8 / 255,
        ...              attacks_to_run=['apgd-ce', 'apgd-t'])
    """

    def __init__(self,
                 eps: float,
                 norm: str = 'linf',
                 version: Optional[str] = None,
                 attacks_to_run: Optional[Sequence[str]] = None,
                 n_target_classes: Optional[int] = None,
                 n_iter: Optional[int] = None,
                 n_restarts: Optional[int] = None,
                 n_queries: Optional[int] = None,
                 verbose: bool = True,
                 seed: int = 0,
                 name: Optional[str] = None) -> None:
        super().__init__(eps=eps, norm=norm, seed=seed, name=name)
        cls = type(self).__name__
        if version is None:
            version = 'standard' if attacks_to_run is None else 'custom'
        if version not in VERSIONS:
            raise ValueError(f'{cls}: version must be one of {VERSIONS}, '
                             f'got {version!r}')
        if version == 'custom':
            if not attacks_to_run:
                raise ValueError(
                    f"{cls}: version='custom' needs attacks_to_run, e.g. "
                    "['apgd-ce', 'apgd-t']")
            unknown = [a for a in attacks_to_run if a not in AA_ATTACKS]
            if unknown:
                raise ValueError(f'{cls}: attacks_to_run has {unknown}; '
                                 f'choose from {AA_ATTACKS}')
        elif attacks_to_run is not None:
            raise ValueError(
                f'{cls}: attacks_to_run={list(attacks_to_run)} is ignored by '
                f"version={version!r}; drop version (or set "
                "version='custom')")
        for key, value in (('n_target_classes', n_target_classes),
                           ('n_iter', n_iter), ('n_restarts', n_restarts),
                           ('n_queries', n_queries)):
            if value is not None and (isinstance(value, bool) or not (
                    isinstance(value, int) and value >= 1)):
                raise ValueError(f'{cls}: {key} must be an int >= 1 or '
                                 f'None, got {value!r}')
        _import_pyautoattack()  # fail at build time if it is missing
        self.version = version
        self.n_target_classes = n_target_classes
        self.n_iter = n_iter
        self.n_restarts = n_restarts
        self.n_queries = n_queries
        self.verbose = bool(verbose)
        # the version's list, as the installed pyautoattack defines it
        probe = self._build_adversary(nn.Identity(), torch.device('cpu'),
                                      attacks_to_run)
        self.attacks_to_run: List[str] = list(probe.attacks_to_run)
        self._default_targets = {
            'apgd-t': min(probe.apgd_targeted.n_target_classes, MAX_TARGETS),
            'fab-t': min(probe.fab.n_target_classes, MAX_TARGETS)
        }
        self._targets_used: Optional[Dict[str, int]] = None

    def _build_adversary(self, model: nn.Module, device: torch.device,
                         attacks_to_run: Optional[Sequence[str]]):
        logger = logging.getLogger('auto-attack')
        level = logger.level
        logger.setLevel(logging.WARNING)  # '_set_version' logs at INFO
        try:
            return _import_pyautoattack().AutoAttack(
                model,
                norm=AA_NORMS[self.norm],
                eps=self.eps,
                version=self.version,
                attacks=None if attacks_to_run is None else list(
                    attacks_to_run),
                seed=self.seed,
                device=device)
        finally:
            logger.setLevel(level)

    def default_name(self) -> str:
        if self.version == 'custom':
            tag = 'autoattack-' + '-'.join(
                a.replace('-', '') for a in self.attacks_to_run)
        elif self.version == 'standard':
            tag = 'autoattack'
        else:
            tag = f'autoattack-{self.version}'
        for prefix, value in (('it', self.n_iter), ('r', self.n_restarts),
                              ('q', self.n_queries)):
            if value is not None:
                tag += f'-{prefix}{value}'
        return f'{tag}_{self.norm}_{eps_label(self.eps, self.norm)}'

    @property
    def strength(self) -> Optional[float]:
        """``standard`` and ``plus`` rank above every PGD (infinite); a
        custom or ``rand`` run is not compared."""
        return math.inf if self.version in ('standard', 'plus') else None

    def settings(self) -> Dict:
        targets = self._targets_used or self.n_target_classes or {
            k: f'min({v}, n_classes - 1)'
            for k, v in self._default_targets.items()
        }
        return dict(
            super().settings(),
            version=self.version,
            attacks_to_run=list(self.attacks_to_run),
            n_target_classes=targets,
            n_iter=self.n_iter,
            n_restarts=self.n_restarts,
            n_queries=self.n_queries,
            pyautoattack=_import_pyautoattack().__version__)

    def _configure(self, adversary, n_classes: int) -> None:
        cls = type(self).__name__
        for attack, needed in MIN_CLASSES.items():
            if attack in self.attacks_to_run and n_classes < needed:
                raise ValueError(
                    f'{cls}: {attack} needs >= {needed} classes, the model '
                    f'has {n_classes}; use attacks_to_run without it')
        if self.n_target_classes is not None:
            if self.n_target_classes > n_classes - 1:
                raise ValueError(
                    f'{cls}: n_target_classes={self.n_target_classes} but '
                    f'the model has {n_classes} classes; use at most '
                    f'{n_classes - 1} or None')
            apgd_t = fab_t = self.n_target_classes
        else:  # 9 each; 5 for APGD-T in AutoAttack's L1 standard
            apgd_t = min(self._default_targets['apgd-t'], n_classes - 1)
            fab_t = min(self._default_targets['fab-t'], n_classes - 1)
        adversary.apgd_targeted.n_target_classes = apgd_t
        adversary.fab.n_target_classes = fab_t
        self._targets_used = {'apgd-t': apgd_t, 'fab-t': fab_t}
        if self.n_iter is not None:
            _set_apgd_n_iter(adversary.apgd, self.n_iter)
            _set_apgd_n_iter(adversary.apgd_targeted, self.n_iter)
            adversary.fab.n_iter = self.n_iter
        if self.n_restarts is not None:
            adversary.apgd.n_restarts = self.n_restarts
            adversary.fab.n_restarts = self.n_restarts
        if self.n_queries is not None:
            adversary.square.n_queries = self.n_queries

    def _recheck(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                 x_adv: torch.Tensor, y_adv: torch.Tensor) -> None:
        """AutoAttack's record against the model, and the threat model."""
        cls = type(self).__name__
        if not torch.isfinite(x_adv).all():
            raise RuntimeError(f'{cls}: AutoAttack returned non-finite '
                               'images')
        if x_adv.min() < 0 or x_adv.max() > 1:
            raise RuntimeError(
                f'{cls}: AutoAttack returned images outside [0, 1] (range '
                f'[{x_adv.min().item():.4g}, {x_adv.max().item():.4g}])')
        size = perturbation_size(x_adv - x, self.norm).max().item()
        if size > self.eps * (1 + 1e-5) + 1e-6:
            raise RuntimeError(
                f'{cls}: AutoAttack returned a perturbation of {self.norm} '
                f'size {size:.6g} > eps={self.eps:.6g}')
        with torch.no_grad():
            pred = model(x_adv).argmax(dim=1)
        differ = pred != y_adv
        if differ.any():
            n = x.shape[0]
            reported = (y_adv == y).sum().item()
            rechecked = (pred == y).sum().item()
            raise RuntimeError(
                f'{cls}: the model predicts differently on '
                f'{differ.sum().item()} of {n} returned images than '
                f'AutoAttack recorded (robust accuracy reported '
                f'{reported}/{n}, rechecked {rechecked}/{n}). Its output '
                'depends on the batch or is random (BatchNorm in train '
                'mode, dropout, non-deterministic kernels or TF32): make '
                'the model deterministic before trusting this number')

    def perturb(self, model: nn.Module, x: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.contiguous_format)
        y = y.long().contiguous()
        with torch.no_grad():
            n_classes = model(x[:1]).shape[1]
        adversary = self._build_adversary(model, x.device,
                                          None if self.version != 'custom'
                                          else self.attacks_to_run)
        self._configure(adversary, n_classes)
        cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        devices = list(range(torch.cuda.device_count())) if cuda else []
        with _routed_log(self.verbose), torch.random.fork_rng(devices):
            x_adv, y_adv = adversary.run_standard_evaluation(
                x, y, batch_size=x.shape[0])
        self._recheck(model, x, y, x_adv, y_adv)
        robust = int((y_adv == y).sum())
        print_log(
            f'{self.name}: {robust} of {x.shape[0]} images still classified '
            f'correctly ({100 * robust / max(x.shape[0], 1):.2f}% of the '
            'images given to it; pyautoattack\'s "initial accuracy" counts '
            'only the correctly classified images it was given, which the '
            'robust loops and hook pre-select; their robust/... metrics are '
            'over all evaluated samples)',
            logger='current',
            level=logging.INFO)
        return x_adv

"""Command-line options of a robust test applied to a config.

``tools/test.py --robust [FILE] --num-samples N --attacks NAME ...
--evaluate-teacher`` maps onto :func:`apply_robust_options`, so any other
entry point (a notebook, a sweep script) gets the same behaviour and the
same errors.
"""
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config, ConfigDict

from ..attacks.builder import attack_names, select_attacks

ROBUST_LOOPS = ('RobustTestLoop', 'RobustValLoop')


def is_robust_loop(loop_cfg) -> bool:
    """Whether a ``test_cfg``/``val_cfg`` is one of the robust loops."""
    return isinstance(loop_cfg, dict) and loop_cfg.get('type') in ROBUST_LOOPS


def apply_robust_options(cfg: Config,
                         robust: Union[bool, str] = False,
                         num_samples: Optional[int] = None,
                         attacks: Optional[Sequence[str]] = None,
                         evaluate_teacher: bool = False,
                         where: str = 'tools/test.py') -> Config:
    """Make ``cfg.test_cfg`` the robust test that the options ask for.

    Args:
        cfg (Config): The test config (changed in place and returned).
        robust (bool | str): True: a ``RobustTestLoop`` with the config's
            own ``robust_eval``; a path: with the ``robust_eval`` defined in
            that file (``configs/_base_/robust_eval/*.py``); False: keep
            ``test_cfg``.
        num_samples (int, optional): Test a fixed seeded subset.
        attacks (Sequence[str], optional): Keep only these configured
            attacks (by metric name, e.g. ``pgd20_linf_8``).
        evaluate_teacher (bool): Also test the teacher of a distillation
            model.
        where (str): Names the caller in errors.

    Raises:
        ValueError: no ``robust_eval`` where one is needed, a subset or
            attack option without a robust loop, or an unknown attack name.
    """
    wants = num_samples is not None or attacks or evaluate_teacher
    if robust:
        if isinstance(robust, str):
            robust_eval = Config.fromfile(robust).get('robust_eval')
            source = robust
        else:
            robust_eval = cfg.get('robust_eval')
            source = cfg.filename or 'the config'
        if robust_eval is None and not is_robust_loop(cfg.get('test_cfg')):
            raise ValueError(
                f'{where} --robust: {source} defines no robust_eval; add '
                "e.g. './_base_/robust_eval/cifar10_linf_8.py' to its "
                '_base_, or pass --robust '
                'configs/_base_/robust_eval/cifar10_linf_8.py')
        if robust_eval is not None:
            cfg.test_cfg = ConfigDict(type='RobustTestLoop', **robust_eval)
    elif wants and not is_robust_loop(cfg.get('test_cfg')):
        raise ValueError(
            f'{where}: --num-samples, --attacks and --evaluate-teacher need '
            'a robust test loop; add --robust')
    if not is_robust_loop(cfg.get('test_cfg')):
        return cfg
    if num_samples is not None:
        cfg.test_cfg.num_samples = num_samples
    if evaluate_teacher:
        cfg.test_cfg.evaluate_teacher = True
    if attacks:
        cfg.test_cfg.attacks = select_attacks(
            list(cfg.test_cfg.get('attacks', [])), attacks,
            f'{where} --attacks')
    # an ETA line per batch: robust batches take minutes
    if cfg.get('default_hooks', {}).get('logger') is not None:
        cfg.default_hooks.logger.interval = 1
    return cfg


def teacher_alone(cfg: Config, where: str = 'the config') -> Config:
    """The config of a distillation model made the test of its teacher
    alone: ``model`` becomes ``model.teacher`` (with its own
    ``data_preprocessor``), and the robust loop and hooks stop evaluating a
    teacher of it.

    Raises:
        ValueError: the config's model has no teacher.
    """
    teacher = cfg.model.get('teacher') if isinstance(cfg.model, dict) \
        else None
    if not isinstance(teacher, dict):
        raise ValueError(
            f'tools/test.py --teacher: {where} has no model.teacher dict '
            'to test; give a distillation config')
    cfg.model = teacher
    for loop_cfg in (cfg.get('test_cfg'), cfg.get('val_cfg')):
        if is_robust_loop(loop_cfg):
            loop_cfg.evaluate_teacher = False
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'RobustEvalHook':
            hook['evaluate_teacher'] = False
    return cfg


def configured_attack_names(cfg: Config) -> Dict[str, List[str]]:
    """The attack names (metric keys) a config defines, by where: its
    ``test_cfg``/``val_cfg`` robust loops, its ``robust_eval`` and
    ``robust_val`` pieces, and its ``RobustEvalHook`` entries."""
    found: Dict[str, List[str]] = {}
    sources = [('test_cfg', cfg.get('test_cfg')), ('val_cfg',
                                                   cfg.get('val_cfg')),
               ('robust_eval', cfg.get('robust_eval')),
               ('robust_val', cfg.get('robust_val'))]
    sources += [(f'custom_hooks[{i}]', hook)
                for i, hook in enumerate(cfg.get('custom_hooks', []))
                if hook.get('type') == 'RobustEvalHook']
    for where, source in sources:
        if isinstance(source, dict) and source.get('attacks'):
            found[where] = attack_names(list(source['attacks']), where)
    return found

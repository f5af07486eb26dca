"""Stand-ins for the tools: the runs of a γ sweep (what ``tools/train.py``
and ``tools/test.py --robust`` would write, with accuracies known in
closed form) and of a method comparison (:func:`fake_tools`)."""
import math
import os
import os.path as osp
from typing import Callable, List

from kdiga_mmrazor.checkpoint import file_sha256
from kdiga_mmrazor.engine.gamma_sweep import GAMMA_KEY
from kdiga_mmrazor.evaluation.tables import write_results


def clean_of(gamma: float) -> float:
    """Synthetic clean accuracy: 85 − 10·log10(1 + γ/0.05), 85 at γ = 0;
    ``clean_of(γ) = 85 − P`` at ``γ = 0.05·(10^(P/10) − 1)``."""
    return 85 - 10 * math.log10(1 + gamma / 0.05)


def robust_of(gamma: float) -> float:
    """Synthetic robust accuracy: 7 at γ = 0, rising to 52."""
    return 7 + 45 * gamma / (gamma + 0.03)


def option(command: List[str], key: str) -> str:
    """The value of ``key=…`` after ``--cfg-options`` (the last one)."""
    options = command[command.index('--cfg-options') + 1:]
    return [o.split('=', 1)[1] for o in options
            if o.startswith(key + '=')][-1]


class FakeRuns:
    """Records every command; a training writes ``iter_{max_iters}.pth``
    and ``last_checkpoint``, a test the robust record of ``clean(γ)`` and
    ``robust(γ)`` (γ read from the command's ``--cfg-options``)."""

    def __init__(self, clean: Callable[[float], float] = clean_of,
                 robust: Callable[[float], float] = robust_of) -> None:
        self.clean, self.robust = clean, robust
        self.commands: List[List[str]] = []

    def __call__(self, command: List[str], log_path: str) -> None:
        self.commands.append(command)
        work_dir = command[command.index('--work-dir') + 1]
        os.makedirs(work_dir, exist_ok=True)
        gamma = float(option(command, GAMMA_KEY))
        if command[1] == 'tools/train.py':
            iters = option(command, 'train_cfg.max_iters')
            checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
            open(checkpoint, 'w').close()
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(checkpoint)
            return
        attacks = command[command.index('--attacks') + 1:
                          command.index('--work-dir')]
        samples = int(command[command.index('--num-samples') + 1])
        row = dict(model=f'gamma_{gamma:g}', member='student',
                   clean_acc=self.clean(gamma),
                   **{f'{a}/acc': self.robust(gamma) for a in attacks})
        write_results(dict(rows=[row], attacks=[dict(name=a) for a in attacks],
                           checkpoint=dict(path=command[3]),
                           subset=dict(num_samples=samples)), work_dir)

    def runs(self) -> List[tuple]:
        """``(tool, γ)`` of every command so far, in order."""
        return [(osp.basename(c[1]), float(option(c, GAMMA_KEY)))
                for c in self.commands]


def fake_tools(commands: list):
    """A stand-in for tools/train.py (writes ``iter_3.pth`` and MMEngine's
    ``last_checkpoint``) and tools/test.py (writes a robust record naming
    the checkpoint by path and sha256, as the results hook does)."""

    def run(command, log_path):
        commands.append(command)
        work_dir = command[command.index('--work-dir') + 1]
        os.makedirs(work_dir, exist_ok=True)
        if command[1] == 'tools/train.py':
            checkpoint = osp.join(work_dir, 'iter_3.pth')
            with open(checkpoint, 'w') as f:
                f.write(f'weights of run {len(commands)}')
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(checkpoint)
            return
        attacks = command[command.index('--attacks') + 1:
                          command.index('--work-dir')]
        samples = int(command[command.index('--num-samples') + 1])
        write_results(dict(
            rows=[dict(model='m', member='student', clean_acc=90.0)],
            attacks=[dict(name=a) for a in attacks],
            checkpoint=dict(path=command[3], sha256=file_sha256(command[3])),
            subset=dict(num_samples=samples)), work_dir)

    return run


def time_kd(configs, repeats, batch_size):
    return {'KD': 0.5}

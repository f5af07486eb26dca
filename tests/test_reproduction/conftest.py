"""A stand-in for the runs of the reproduction: it writes what
``tools/train.py`` and ``tools/test.py --robust`` would, with every number
known in closed form from the run's γ (plain KD: 0, KDIGA: 0.1)."""
import math
import os
import os.path as osp
from typing import Dict, List

import pytest

from kdiga_mmrazor.evaluation.tables import write_results
from kdiga_mmrazor.reproduction.plan import GAMMA_KEY

TEACHER = dict(clean=77.0, pgd8=18.8)
OTHERS = {'teacher (resnet4b)': -1.0, 'student before (ResNet-20)': -2.0,
          'ARD': 0.5, 'RSLAD': 0.6}


def clean_of(gamma: float) -> float:
    """85 − 10·log10(1 + γ/0.05): 85 at γ = 0, 80.23 at 0.1."""
    return 85 - 10 * math.log10(1 + gamma / 0.05)


def pgd_of(gamma: float, eps: float) -> float:
    """PGD-20 accuracy at ε/255: 7 at γ = 0 and 2/255, saturating in γ,
    falling with ε; at 8/255 it is 20·(1 − e^(−γ)) (≥ 15.04 from γ ≈ 1.39)."""
    if eps == 8:
        return 20 * (1 - math.exp(-gamma))
    return (7 + 45 * gamma / (gamma + 0.03)) * 2 / (eps + 1) * 1.5


def option(command: List[str], key: str):
    if '--cfg-options' not in command:
        return None
    values = [o.split('=', 1)[1]
              for o in command[command.index('--cfg-options') + 1:]
              if o.startswith(key + '=')]
    return values[-1] if values else None


class FakeLab:
    """Records every command; writes the work dirs they would."""

    def __init__(self) -> None:
        self.commands: List[List[str]] = []

    def gamma(self, command: List[str], name: str) -> float:
        value = option(command, GAMMA_KEY)
        if value is not None:
            return float(value)
        if name in OTHERS:
            return OTHERS[name]
        return 0.0 if name.startswith('KD') and 'IGA' not in name \
            or name == 'gamma_0' else 0.1

    def metrics(self, command: List[str]) -> Dict[str, float]:
        name = command[command.index('--model-name') + 1]
        if name == 'teacher (resnet4b)':
            return {'clean_acc': TEACHER['clean'],
                    'pgd20_linf_1/acc': 70.0, 'pgd20_linf_2/acc': 63.8,
                    'pgd20_linf_4/acc': 45.0,
                    'pgd20_linf_8/acc': TEACHER['pgd8'],
                    'autoattack_linf_2/acc': 62.0,
                    'autoattack_linf_8/acc': 15.0}
        gamma = max(self.gamma(command, name), 0.0)
        values = {'clean_acc': clean_of(gamma)}
        for eps in (1, 2, 4, 8):
            values[f'pgd20_linf_{eps}/acc'] = pgd_of(gamma, eps)
            values[f'autoattack_linf_{eps}/acc'] = pgd_of(gamma, eps) - 1
        return values

    def __call__(self, command: List[str], log_path: str) -> None:
        self.commands.append(command)
        work_dir = command[command.index('--work-dir') + 1]
        os.makedirs(work_dir, exist_ok=True)
        if command[1] == 'tools/train.py':
            iters = option(command, 'train_cfg.max_iters')
            checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
            open(checkpoint, 'w').close()
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(checkpoint)
            return
        attacks = []
        if '--attacks' in command:
            attacks = command[command.index('--attacks') + 1:
                              command.index('--work-dir')]
        values = self.metrics(command)
        row = dict(model=command[command.index('--model-name') + 1],
                   member='student', clean_acc=values['clean_acc'])
        row.update({f'{a}/acc': values[f'{a}/acc'] for a in attacks})
        if option(command, 'test_cfg.diagnostics.eps') is not None:
            misalign = 10 - values['pgd20_linf_2/acc'] / 10
            row.update(grad_misalign_l1=misalign, grad_cos_sim=0.5,
                       local_linearity=misalign / 100,
                       first_order_bound=misalign / 5,
                       transfer_bound=misalign / 4)
        if option(command, 'test_cfg.certification.0.n') is not None:
            row.update({
                'smooth_l2_sigma0.25/certified_acc_r0': values['clean_acc']
                / 2,
                'smooth_l2_sigma0.25/certified_acc_r0.25': 20.0,
                'smooth_l2_sigma0.25/smoothed_acc': values['clean_acc'] / 2,
                'smooth_l2_sigma0.25/abstain': 10.0})
        samples = int(command[command.index('--num-samples') + 1])
        write_results(dict(
            rows=[row], attacks=[dict(name=a) for a in attacks],
            checkpoint=dict(path=command[3]),
            subset=dict(num_samples=samples)), work_dir)

    def trained(self) -> List[str]:
        """``--work-dir`` of every training, in order."""
        return [osp.basename(c[c.index('--work-dir') + 1])
                for c in self.commands if c[1] == 'tools/train.py']


def fake_time_steps(configs, repeats, batch_size):
    """Seconds per step: KD 0.25, KDIGA 0.6, the baselines 2."""
    return {name: {'KD': 0.25, 'KDIGA': 0.6}.get(name, 2.0)
            for name in configs}


@pytest.fixture
def lab() -> FakeLab:
    return FakeLab()

"""Pixel-space adversarial attacks; importing registers them in
:data:`kdiga_mmrazor.registry.ATTACKS`."""
from .autoattack import AutoAttack
from .base import BaseAttack, eps_label
from .builder import attack_names, build_attack, build_attacks, select_attacks
from .fgsm import FGSMAttack
from .pgd import PGDAttack, attack_loss, pgd, project, random_start

__all__ = [
    'AutoAttack', 'BaseAttack', 'FGSMAttack', 'PGDAttack', 'attack_loss',
    'attack_names', 'build_attack', 'build_attacks', 'select_attacks',
    'eps_label', 'pgd', 'project', 'random_start'
]

"""Distillation algorithms: ``KDIGADistill`` (one forward per model, the
input gradients of both, each model with its own normalisation) and
MMRazor's ``SingleTeacherDistill`` with its teacher verified and α one key
(registered under MMRazor's name)."""
from .adversarial_training import AdversarialTraining as AdversarialTraining
from .kdiga_distill import KDIGADistill
from .robust_distill import RobustDistill as RobustDistill
from .single_teacher_distill import VerifiedSingleTeacherDistill

__all__ = ['KDIGADistill', 'VerifiedSingleTeacherDistill']

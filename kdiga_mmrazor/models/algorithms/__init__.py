"""Training algorithms: ``KDIGADistill`` (one forward per model, the input
gradients of both, each model with its own normalisation), MMRazor's
``SingleTeacherDistill`` with its teacher verified and α one key
(registered under MMRazor's name), and the baselines: ``RobustDistill``
(ARD, RSLAD, IAD, AdaAD, IGDM, KDIGA + ARD) and ``AdversarialTraining``
(PGD-AT, TRADES, FGSM-RS)."""
from .adversarial_training import AdversarialTraining
from .kdiga_distill import KDIGADistill
from .robust_distill import RobustDistill
from .single_teacher_distill import VerifiedSingleTeacherDistill

__all__ = [
    'AdversarialTraining', 'KDIGADistill', 'RobustDistill',
    'VerifiedSingleTeacherDistill'
]

"""The reproduction of the results document: budgets, the runs behind it
(teacher, plain KD, KDIGA and the baselines on three teacher → student
pairs, the γ sweep and calibration, diagnostics, randomized smoothing),
its figures and ``docs/results.md`` itself."""
from .budgets import BUDGETS, ReproductionBudget
from .document import write_document
from .runner import reproduce, rewrite_document

__all__ = ['BUDGETS', 'ReproductionBudget', 'reproduce', 'rewrite_document',
           'write_document']

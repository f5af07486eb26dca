"""Dataset helpers.

* :mod:`.cifar10_folder`: read CIFAR-10 from an image-folder copy
  (``{train,test}/<class>/*.jpg``) with the pipelines of MMPretrain's
  ``CIFAR10`` configs.
"""
from .cifar10_folder import CLASSES, ENV_VAR, use_cifar10_folder

__all__ = ['CLASSES', 'ENV_VAR', 'use_cifar10_folder']

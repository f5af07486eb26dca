"""Dataset helpers.

* :mod:`.cifar10_folder`: read CIFAR-10 from an image-folder copy
  (``{train,test}/<class>/*.jpg``) with the pipelines of MMPretrain's
  ``CIFAR10`` configs.
"""
from .cifar10_folder import (
    CLASSES,
    ENV_VAR,
    check_image_folder,
    is_cifar10_folder,
    use_cifar10_folder,
    use_cifar10_folders_found,
)

__all__ = [
    'CLASSES', 'ENV_VAR', 'check_image_folder', 'is_cifar10_folder',
    'use_cifar10_folder', 'use_cifar10_folders_found'
]

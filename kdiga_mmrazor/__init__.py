"""kdiga_mmrazor: knowledge distillation that keeps adversarial robustness.

Importing the package registers its components into the OpenMMLab
registries; configs load it with::

    custom_imports = dict(imports=['kdiga_mmrazor'],
                          allow_failed_imports=False)

``compat`` is imported first: it makes ``import mmrazor.models`` work on
torch >= 2 and routes every local checkpoint load through
``weights_only=True``.
"""
# isort: off
from . import compat  # noqa: F401  (must run before anything from mmrazor)
from . import attacks  # noqa: F401
from . import engine  # noqa: F401
from . import evaluation  # noqa: F401
from . import models  # noqa: F401
# isort: on
from .version import __version__

__all__ = ['__version__']

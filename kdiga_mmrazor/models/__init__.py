"""Registered models: losses, distillers and algorithms (MMRazor's
``MODELS``), recorders, and CIFAR backbones (MMPretrain's ``MODELS``)."""
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recorders import *  # noqa: F401,F403

"""Neural-network building blocks: ``Module``, ``Parameter``, layers, losses, ``init`` and ``functional``."""

from __future__ import annotations

from . import functional, init, utils
from .activation import *
from .attention import *
from .containers import *
from .conv import *
from .dropout import *
from .linear import *
from .loss import *
from .module import Module
from .normalization import *
from .parameter import Buffer, Parameter
from .pooling import *
from .rnn import *
from .sparse import *
from .transformer import *

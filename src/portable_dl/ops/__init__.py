"""The op library: every differentiable op as a ``Function``, grouped by kind.

Each module lists its public functions in ``__all__`` (exported as ``portable_dl.*``),
the names ``portable_dl.nn.functional`` re-exports in ``FUNCTIONAL``, and the methods
it adds to Tensor in ``TENSOR_METHODS``; this file binds them all in one place.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import (
    activation,
    arithmetic,
    attention,
    broadcast,
    conv,
    conversion,
    creation,
    dropout,
    embedding,
    filling,
    indexing,
    linalg,
    loss_binary,
    loss_classification,
    loss_margin,
    loss_regression,
    misc,
    normalization,
    pooling,
    reduction_extreme,
    reduction_norm,
    reduction_scan,
    reduction_sum,
    selection,
    shape_diagonal,
    shape_join,
    shape_rearrange,
    shape_view,
    softmax,
    sorting,
    unary,
)

MODULES = (
    creation, conversion, broadcast, arithmetic, unary, selection, activation,
    reduction_sum, reduction_extreme, reduction_scan, reduction_norm, sorting,
    shape_view, shape_join, shape_rearrange, shape_diagonal, indexing,
    linalg, conv, pooling, softmax, normalization, dropout, embedding, attention, filling, misc,
    loss_classification, loss_binary, loss_regression, loss_margin,
)  # fmt: skip

__all__: list[str] = []
for _module in MODULES:
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
    for _name, _method in _module.TENSOR_METHODS.items():
        setattr(Tensor, _name, _method)


def functional_namespace() -> dict:
    """Name -> function for everything the op modules offer to ``portable_dl.nn.functional``."""
    names = {}
    for module in MODULES:
        for name in getattr(module, "FUNCTIONAL", ()):
            names[name] = getattr(module, name)
    return names

"""``torch.onnx``'s front: ``portable_dl.onnx.export(...)`` with PyTorch's signature.

The machinery lives in ``portable_dl.export``; this module only makes ``torch.onnx.export(...)`` calls port
unchanged after ``import portable_dl as torch``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export"]


def export(model: Any, args: Any, f: Any, input_names: list | None = None, output_names: list | None = None,
           dynamic_axes: dict | None = None, opset_version: int | None = 17, do_constant_folding: bool = True,
           kwargs: dict | None = None, **options: Any) -> Any:  # fmt: skip
    """Trace ``model`` on ``args`` and write an ONNX file to ``f``; see ``portable_dl.export.api.export``."""
    from .export.api import export as _export

    return _export(
        model,
        args,
        f,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        opset_version=opset_version,
        do_constant_folding=do_constant_folding,
        kwargs=kwargs,
        **options,
    )

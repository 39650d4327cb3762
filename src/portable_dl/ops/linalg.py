"""Matrix products: ``matmul``/``@``, ``mm``, ``bmm``, ``mv``, ``dot``, ``outer``, ``einsum``, ``tensordot``,
``linear`` (the MLP hot path) and the ``add*`` fused forms.

Every product runs through a handful of raw Functions whose backward is again made of them
(``MatMul`` with transpose flags, ``Einsum``, ``View``), so gradients of any order work.
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import assign_inplace
from .broadcast import BroadcastTo, _sum_to, sum_to

# torch's C++ spelling of dtypes, used in its error messages
_CNAME = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
    "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
}  # fmt: skip
_SNAME = {
    "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}  # fmt: skip


def _cname(t: Any) -> str:
    return _CNAME[t._data.dtype.name]


def _sname(t: Any) -> str:
    return _SNAME[t._data.dtype.name]


def _check_tensor(value: Any, op: str, arg: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(value).__name__}")


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cname(a)} != {_cname(b)}")
    if a._data.dtype.kind == "b":
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


# ----- raw helpers ---------------------------------------------------------------------------------


def _swap(x: Any) -> Any:
    return x.T if x.ndim == 2 else x.swapaxes(-1, -2)


def _raw_matmul(a: Any, b: Any, ta: bool, tb: bool) -> Any:
    """``op(a) @ op(b)`` (op transposes the last two dims when its flag is set), BLAS-friendly."""
    if ta:
        a = _swap(a)
    if tb:
        b = _swap(b)
    if b.ndim == 2 and a.ndim > 2 and not ta:
        # (..., n, k) @ (k, m): one big GEMM instead of a loop of small ones
        lead = a.shape[:-1]
        if a.shape[-1] != b.shape[0]:
            raise ValueError("matmul: shape mismatch")
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(lead + (b.shape[1],))
    return a @ b


class View(Function):
    """``reshape`` used inside backward formulas (here, in conv and in reduction); its backward is a reshape back."""

    _raw = True
    _is_view = True  # shares the version counter of its input (reshape is a view when it can be)

    def name(self) -> str:
        return "ViewBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple) -> Any:
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _view(grad, ctx.in_shape), None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return grad.reshape(ctx.in_shape), None


def _view(t: Tensor, shape: tuple) -> Tensor:
    if t._data.shape == tuple(shape):
        return t
    return View.apply(t, tuple(shape))


class MatMul(Function):
    """``matmul`` with NumPy/torch semantics; ``ta``/``tb`` transpose the last two dims of a >=2-D operand."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, ta: bool = False, tb: bool = False) -> Any:
        ctx.save_for_backward(a, b)
        ctx.flags = (ta, tb)
        ctx.ndims = (a.ndim, b.ndim)
        try:
            out = _raw_matmul(a, b, ta, tb)
            return out if out.ndim else ctx.xp.asarray(out)
        except ValueError:
            sa = a.shape if not ta else a.shape[:-2] + (a.shape[-1], a.shape[-2])
            sb = b.shape if not tb else b.shape[:-2] + (b.shape[-1], b.shape[-2])
            raise RuntimeError(_matmul_error(sa, sb)) from None

    def name(self) -> str:
        na, nb = getattr(self, "ndims", (2, 2))
        if na == nb == 1:
            return "DotBackward0"
        if nb == 1:
            return "MvBackward0"
        return "MmBackward0" if na <= 2 and nb == 2 else "BmmBackward0"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b = ctx.saved_tensors
        ta, tb = ctx.flags
        need_a, need_b = ctx.needs_input_grad[:2]
        sa, sb = a._data.shape, b._data.shape
        ga = gb = None
        if len(sa) >= 2 and len(sb) >= 2:
            if need_a:
                ga = MatMul.apply(grad, b, False, not tb) if not ta else MatMul.apply(b, grad, tb, True)
                ga = sum_to(ga, sa)
            if need_b:
                if len(sb) == 2 and len(sa) > 2 and not ta:  # weight-like operand: one flattened GEMM
                    a2 = _view(a, (-1, sa[-1]))
                    g2 = _view(grad, (-1, grad._data.shape[-1]))
                    gb = MatMul.apply(a2, g2, True, False) if not tb else MatMul.apply(g2, a2, True, False)
                else:
                    gb = MatMul.apply(a, grad, not ta, False) if not tb else MatMul.apply(grad, a, True, ta)
                    gb = sum_to(gb, sb)
            return ga, gb, None, None
        if len(sa) == 1 and len(sb) == 1:  # dot: grad is 0-d
            return (grad * b if need_a else None), (grad * a if need_b else None), None, None
        if len(sa) == 1:  # (k,) @ (..., k, m) -> (..., m)
            k = sa[0]
            g = _view(grad, grad._data.shape[:-1] + (1, grad._data.shape[-1]))
            if need_a:
                ga = _view(sum_to(MatMul.apply(g, b, False, not tb), (1, k)), sa)
            if need_b:
                gb = MatMul.apply(_view(a, (1, k)), g, True, False)  # the gradient of op(b)
                gb = sum_to(_transpose_last(gb) if tb else gb, sb)
            return ga, gb, None, None
        # (..., n, k) @ (k,) -> (..., n)
        k = sb[0]
        g = _view(grad, grad._data.shape + (1,))
        if need_a:
            ga = MatMul.apply(g, _view(b, (1, k)), False, False)  # the gradient of op(a)
            ga = sum_to(_transpose_last(ga) if ta else ga, sa)
        if need_b:
            gb = _view(sum_to(MatMul.apply(a, g, not ta, False), (k, 1)), (k,))
        return ga, gb, None, None


class _Transpose(Function):
    _raw = True
    _is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return _swap(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _Transpose.apply(grad)


def _transpose_last(t: Tensor) -> Tensor:
    return _Transpose.apply(t)


def _matmul_error(sa: tuple, sb: tuple) -> str:
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        return f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
    if na == 1 and nb == 1:
        return (
            f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
            f"elements, but got {sa[0]} and {sb[0]} elements respectively"
        )
    if nb == 1:
        rows = 1
        for s in sa[:-1]:
            rows *= s
        return f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
    if na <= 2 and nb == 2:
        n = sa[0] if na == 2 else 1
        return f"mat1 and mat2 shapes cannot be multiplied ({n}x{sa[-1]} and {sb[0]}x{sb[1]})"
    if nb == 2:
        rows = 1
        for s in sa[:-1]:
            rows *= s
        return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})"
    ba, bb = sa[:-2], sb[:-2]
    n = max(len(ba), len(bb))
    pa, pb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and x != 1 and y != 1:
            return f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {i}"
    batch = 1
    for x, y in zip(pa, pb):
        batch *= max(x, y)
    return (
        f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {sa[-1]}] but got: "
        f"[{batch}, {sb[-2]}]."
    )


# ----- public products -----------------------------------------------------------------------------


def matmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002 - torch argument name
    """Matrix product with torch's rules for 1-D, 2-D and batched (broadcast) operands."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        _check_tensor(input, "matmul", "input")
        _check_tensor(other, "matmul", "other")
    if input._data.dtype != other._data.dtype or input._data.dtype.kind == "b":
        _check_same_dtype(input, other)
    if input._data.ndim == 0 or other._data.ndim == 0:
        raise RuntimeError(_matmul_error(input._data.shape, other._data.shape))
    return MatMul.apply(input, other)


def _matmul_operator(self: Tensor, other: Any) -> Any:
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


def _rmatmul_operator(self: Tensor, other: Any) -> Any:
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """2-D x 2-D matrix product (no broadcasting)."""
    _check_tensor(input, "mm", "input")
    _check_tensor(mat2, "mm", "mat2")
    if input._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix, got {input._data.ndim}-D tensor")
    if mat2._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2._data.ndim}-D tensor")
    _check_same_dtype(input, mat2)
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched 3-D x 3-D matrix product (no broadcasting)."""
    _check_tensor(input, "bmm", "input")
    _check_tensor(mat2, "bmm", "mat2")
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    sa, sb = input._data.shape, mat2._data.shape
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] but got: "
            f"[{sb[0]}, {sb[1]}]."
        )
    if input._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"expected scalar type {_sname(input)} but found {_sname(mat2)}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    return MatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """Matrix x vector."""
    _check_tensor(input, "mv", "input")
    _check_tensor(vec, "mv", "vec")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        n, k = input._data.shape
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({n}x{k}), vec ({vec._data.shape[0]})")
    if input._data.dtype != vec._data.dtype:
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {_sname(vec)}, {_sname(input)}, and {_sname(vec)}"
        )
    return MatMul.apply(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """Inner product of two 1-D tensors."""
    _check_tensor(input, "dot", "input")
    _check_tensor(tensor, "dot", "tensor")
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D tensors")
    if input._data.shape != tensor._data.shape:
        raise RuntimeError(_matmul_error(input._data.shape, tensor._data.shape))
    if input._data.dtype != tensor._data.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_sname(input)} and {_sname(tensor)}"
        )
    return MatMul.apply(input, tensor)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """Outer product of two 1-D tensors (their dtypes are promoted)."""
    _check_tensor(input, "outer", "input")
    _check_tensor(vec2, "outer", "vec2")
    for t, name in ((input, "self"), (vec2, "vec2")):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return _view(input, (input._data.shape[0], 1)) * vec2


ger = outer


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``."""
    if input._data.dtype != mat1._data.dtype and mat1._data.dtype == mat2._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_sname(input)} and {_sname(mat2)}")
    return _add_scaled(input, mm(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_scaled(input, mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _add_scaled(input, outer(vec1, vec2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    prod = bmm(batch1, batch2)
    return _add_scaled(input, sum_to(prod, prod._data.shape[1:]), beta, alpha)


def _add_scaled(input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:  # noqa: A002
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # torch ignores input (even nan/inf) when beta is 0
        return prod
    return prod + (input if beta == 1 else input * beta)


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Sum product over the last dims (a scalar operand multiplies)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input._data.shape)} and {list(other._data.shape)}"
        )
    return tensordot(input, other, dims=([input._data.ndim - 1], [other._data.ndim - 1]))


# ----- linear: the hot path --------------------------------------------------------------------------


class Linear(Function):
    """``input @ weight.T + bias`` with one GEMM forward and exactly the needed GEMMs backward."""

    _raw = True
    b_shape = None

    def name(self) -> str:
        return "MmBackward0" if self.b_shape is None else "AddmmBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any) -> Any:
        ctx.save_for_backward(x, w)
        if x.ndim == 2:
            out = x @ w.T
        elif x.ndim == 1:
            out = w @ x
        else:
            out = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            ctx.b_shape = b.shape
            out += b  # fused: no temporary (``linear`` checked that b broadcasts to out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        xs = x._data.shape
        g2 = grad if grad._data.ndim == 2 else _view(grad, (-1, grad._data.shape[-1]))
        if need_x:
            gx = MatMul.apply(g2, w, False, False)
            if len(xs) != 2:
                gx = _view(gx, xs)
        if need_w:
            x2 = x if len(xs) == 2 else _view(x, (-1, xs[-1]))
            gw = MatMul.apply(g2, x2, True, False)
        if need_b:
            gb = sum_to(grad, ctx.b_shape)
        return gx, gw, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, w = ctx.saved_arrays
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        g2 = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])
        if need_x:
            gx = g2 @ w
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if need_w:
            gw = g2.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
        if need_b:
            gb = _sum_to(ctx.xp, grad, ctx.b_shape)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """``y = input @ weight.T + bias`` (``torch.nn.functional.linear``)."""
    xd, wd = input._data, weight._data
    if xd.dtype != wd.dtype or xd.dtype.kind == "b":
        _check_same_dtype(input, weight)
    if wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1]:
        return _linear_general(input, weight, bias)
    if bias is not None:
        bd = bias._data
        if bd.dtype != xd.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {_sname(bias)} and {_sname(weight)}")
        out_shape = xd.shape[:-1] + (wd.shape[0],)
        if bd.ndim > len(out_shape) or any(s != 1 and s != o for s, o in zip(bd.shape[::-1], out_shape[::-1])):
            raise RuntimeError(
                f"The expanded size of the tensor ({out_shape[-1]}) must match the existing size "
                f"({bd.shape[-1] if bd.ndim else 1}) at non-singleton dimension {len(out_shape) - 1}.  "
                f"Target sizes: {list(out_shape)}.  Tensor sizes: {list(bd.shape)}"
            )
    return Linear.apply(input, weight, bias)


def _linear_general(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # noqa: A002
    if weight._data.ndim == 1:
        if bias is not None and (input._data.ndim > 1 or bias._data.ndim > 0):
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        out = matmul(input, weight)
    elif weight._data.ndim == 2:
        if input._data.ndim == 0:
            raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
        rows = 1
        for s in input._data.shape[:-1]:
            rows *= s
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input._data.shape[-1]} and "
            f"{weight._data.shape[1]}x{weight._data.shape[0]})"
        )
    else:
        raise RuntimeError(f"linear(): weight must be 1-D or 2-D, got {weight._data.ndim}-D")
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1 @ W_k @ x2 + b_k`` over the last dims."""
    if weight._data.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {weight._data.ndim}-D")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else out + bias


# ----- einsum / tensordot ------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Einsum(Function):
    """``einsum`` on explicit, ellipsis-free subscripts (every operand already broadcast to full sizes)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, spec: tuple, *operands: Any) -> Any:
        terms, out = spec
        ctx.spec = spec
        ctx.save_for_backward(*operands)
        eq = ",".join(terms) + "->" + out
        if len(operands) == 1:
            result = ctx.xp.einsum(eq, operands[0])
            if result is operands[0] or getattr(result, "base", None) is not None:
                result = result.copy()  # einsum returns views for permutations/diagonals
        else:
            result = ctx.xp.einsum(eq, *operands, optimize=True)
        return result if result.ndim else ctx.xp.asarray(result)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        terms, out = ctx.spec
        ops = ctx.saved_tensors
        grads: list = [None]
        sizes: dict = {}
        for term, op in zip(terms, ops):
            for c, s in zip(term, op._data.shape):
                sizes[c] = s
        for i in range(len(terms)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            grads.append(_einsum_grad(grad, ops, terms, out, i, sizes))
        return tuple(grads)


def _einsum_grad(grad: Tensor, ops: tuple, terms: tuple, out: str, i: int, sizes: dict) -> Tensor:
    term = terms[i]
    used = set("".join(terms)) | set(out)
    spare = [c for c in _LETTERS if c not in used]
    # a repeated subscript (a diagonal): rename repeats and multiply by an identity
    target = []
    extra_terms: list = []
    extra_ops: list = []
    seen: set = set()
    backend = grad._backend
    dt = grad._data.dtype
    for c in term:
        if c in seen:
            new = spare.pop()
            target.append(new)
            extra_terms.append(c + new)
            extra_ops.append(Tensor._wrap(backend.xp.eye(sizes[c], dtype=dt), backend))
        else:
            seen.add(c)
            target.append(c)
    in_terms = [out] + [t for j, t in enumerate(terms) if j != i] + extra_terms
    present = set("".join(in_terms))
    for c in dict.fromkeys(term):
        if c not in present:  # summed away only inside this operand: its gradient is broadcast
            in_terms.append(c)
            extra_ops.append(Tensor._wrap(backend.xp.ones(sizes[c], dtype=dt), backend))
    in_ops = [grad] + [o for j, o in enumerate(ops) if j != i] + extra_ops
    return Einsum.apply((tuple(in_terms), "".join(target)), *in_ops)


def _parse_einsum(equation: str, shapes: list) -> tuple:
    """Validate ``equation`` against the operand shapes; return (terms, output, per-letter sizes)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for pos, c in enumerate(eq):
        if not (c.isascii() and c.isalpha()) and c not in ".,->":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {pos} in the equation string, subscripts must be in "
                "[a-zA-Z]"
            )
    used = set(eq)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = max([len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t] or [0])
    ell = "".join(spare[:n_ell])
    expanded = []
    for k, (t, s) in enumerate(zip(terms, shapes)):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            if n < 0:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(t) - 3}) is more than the number "
                    f"of dimensions ({len(s)}) for operand {k}"
                )
            t = t.replace("...", ell[n_ell - n :])
        elif len(t) != len(s):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the number of "
                f"dimensions ({len(s)}) for operand {k} and no ellipsis was given"
            )
        if "." in t:
            raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
        expanded.append(t)
    if rhs is None:
        counts: dict = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        out = rhs.replace("...", ell)
        letters = set("".join(expanded))
        for c in out:
            if c not in letters:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
        if len(set(out)) != len(out):
            dup = next(c for c in out if out.count(c) > 1)
            raise RuntimeError(f"einsum(): output subscript {dup} appears more than once in the output")
    sizes: dict = {}
    for k, (t, s) in enumerate(zip(expanded, shapes)):
        own: dict = {}
        for c, n in zip(t, s):
            if c in own and own[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, {own[c]} != {n}"
                )
            own[c] = n
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != 1 and n != seen:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast with "
                    f"previously seen size {seen}"
                )
    return tuple(expanded), out, sizes


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (``torch.einsum(equation, *operands)`` or with a list of operands)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("einsum(): the first argument must be the equation string")
    for k, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): operand {k} must be a Tensor, got {type(op).__name__}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    dt = operands[0]._data.dtype
    for op in operands[1:]:
        if op._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {_sname(operands[0])} but found {_sname(op)}")
    if dt.kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    terms, out, sizes = _parse_einsum(equation, [op._data.shape for op in operands])
    ops = []
    for t, op in zip(terms, operands):
        full = tuple(sizes[c] for c in t)
        ops.append(op if full == op._data.shape else BroadcastTo.apply(op, full))
    return Einsum.apply((terms, out), *ops)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or the listed dims)."""
    _check_tensor(a, "tensordot", "a")
    _check_tensor(b, "tensordot", "b")
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > na or dims > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        da = [d + na if d < 0 else d for d in da]
        db = [d + nb if d < 0 else d for d in db]
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    for x, y in zip(da, db):
        sx, sy = a._data.shape[x], b._data.shape[y]
        if sx != sy:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {sx} in dim {x} and second has size "
                f"{sy} in dim {y}"
            )
    letters = iter(_LETTERS)
    ta = [next(letters) for _ in range(na)]
    tb = [next(letters) for _ in range(nb)]
    for x, y in zip(da, db):
        tb[y] = ta[x]
    out_terms = [c for k, c in enumerate(ta) if k not in da] + [c for k, c in enumerate(tb) if k not in db]
    result = Einsum.apply((("".join(ta), "".join(tb)), "".join(out_terms)), a, b)
    if out is not None:
        return assign_inplace(out, result, "tensordot")
    return result


# ----- in-place forms ----------------------------------------------------------------------------------


def _inplace(fn: Any, name: str) -> Any:
    def op(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return assign_inplace(self, fn(self, *args, **kwargs), name)

    op.__name__ = name
    return op


__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "inner", "einsum", "tensordot",
    "addmm", "addmv", "addr", "baddbmm", "addbmm", "bilinear",
]  # fmt: skip
FUNCTIONAL = ["linear", "bilinear"]
TENSOR_METHODS = {
    "__matmul__": _matmul_operator, "__rmatmul__": _rmatmul_operator,
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "outer": outer, "ger": outer, "inner": inner,
    "addmm": addmm, "addmv": addmv, "addr": addr, "baddbmm": baddbmm, "addbmm": addbmm,
    "addmm_": _inplace(addmm, "addmm_"), "addmv_": _inplace(addmv, "addmv_"), "addr_": _inplace(addr, "addr_"),
    "baddbmm_": _inplace(baddbmm, "baddbmm_"), "addbmm_": _inplace(addbmm, "addbmm_"),
}  # fmt: skip

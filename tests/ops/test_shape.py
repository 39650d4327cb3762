"""Shape ops against PyTorch: views, joins, splits, flips/rolls, triangles/diagonals and pad."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def _f32(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def _lib(x: object) -> object:
    if isinstance(x, (list, tuple)):
        x = x[0]
    return torch if isinstance(x, torch.Tensor) else pdl


# ----- views -------------------------------------------------------------------------------------
VIEWS = {
    "reshape": lambda x: x.reshape(4, -1),
    "reshape_tuple": lambda x: x.reshape((-1, 2)),
    "reshape_fn": lambda x: _lib(x).reshape(x, (3, 8)),
    "reshape_noncontig": lambda x: x.transpose(0, 2).reshape(-1),
    "view": lambda x: x.view(2, 12),
    "view_tuple": lambda x: x.view((6, 4)),
    "view_as": lambda x: x.view(-1).view_as(x),
    "reshape_as": lambda x: x.reshape_as(x.permute(2, 0, 1)),
    "flatten": lambda x: x.flatten(),
    "flatten_1": lambda x: x.flatten(1),
    "flatten_mid": lambda x: _lib(x).flatten(x, 0, -2),
    "ravel": lambda x: x.transpose(0, 1).ravel(),
    "unflatten": lambda x: x.unflatten(2, (2, -1)),
    "unflatten_neg": lambda x: _lib(x).unflatten(x, -2, (1, 3, 1)),
    "squeeze": lambda x: x[:, :1, None].squeeze(),
    "squeeze_dim": lambda x: x[:, :1].squeeze(1),
    "squeeze_tuple": lambda x: x[:1, :1].squeeze((0, 1, 2)),
    "squeeze_noop": lambda x: x.squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(-1),
    "unsqueeze_0": lambda x: _lib(x).unsqueeze(x, 0),
    "transpose": lambda x: x.transpose(-1, 0),
    "swapaxes": lambda x: _lib(x).swapaxes(x, 0, 1),
    "swapdims": lambda x: x.swapdims(1, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute_tuple": lambda x: x.permute((2, 0, 1)),
    "permute_neg": lambda x: _lib(x).permute(x, (-1, -3, -2)),
    "movedim": lambda x: x.movedim((0, 1), (2, 0)),
    "movedim_int": lambda x: _lib(x).movedim(x, 0, -1),
    "moveaxis": lambda x: _lib(x).moveaxis(x, -1, 1),
    "mT": lambda x: x.mT,
    "T2": lambda x: x[0].T,
    "t": lambda x: x[0].t(),
    "t1": lambda x: x[0, 0].t(),
    "narrow": lambda x: x.narrow(2, -3, 2),
    "narrow_fn": lambda x: _lib(x).narrow(x, 0, 1, 1),
    "select": lambda x: x.select(-1, 2),
    "select_neg": lambda x: _lib(x).select(x, 0, -1),
    "diagonal": lambda x: x.diagonal(),
    "diagonal_off": lambda x: x.diagonal(1, 0, 2),
    "diagonal_neg": lambda x: _lib(x).diagonal(x, -1, -1, -2),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views(name: str, device: str) -> None:
    parity(VIEWS[name], [_f32(2, 3, 4)], device=device, double=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_views_zero_dim_and_empty(device: str) -> None:
    s = np.array(1.5, dtype=np.float32)
    for fn in (lambda x: x.reshape(1, 1), lambda x: x.view(-1), lambda x: x.flatten(), lambda x: x.unsqueeze(0),
               lambda x: x.squeeze(), lambda x: x.squeeze(0), lambda x: x.T, lambda x: x.t(),
               lambda x: x.permute(()), lambda x: x.transpose(0, -1), lambda x: x.movedim(0, 0)):  # fmt: skip
        parity(fn, [s], device=device, double=True)
    e = _f32(0, 3)
    for fn in (lambda x: x.reshape(3, 0), lambda x: x.reshape(-1, 3, 2), lambda x: x.T, lambda x: x.flatten(),
               lambda x: x.unsqueeze(1), lambda x: x.narrow(1, 1, 2), lambda x: x.select(1, 0)):  # fmt: skip
        parity(fn, [e], device=device, double=True)


def test_views_share_memory_and_version() -> None:
    x = pdl.zeros(2, 3)
    for v in (x.view(6), x.reshape(3, 2), x.T, x.permute(1, 0), x.unsqueeze(0), x[None].squeeze(0),
              x.narrow(1, 0, 2), x.select(0, 1), x.diagonal(), x.transpose(0, 1), x.flatten()):  # fmt: skip
        before = x._version
        v.add_(1)
        assert x._version == before + 1 and v._version == x._version
    assert float(x.sum()) == 6 * 8 + 4 + 3 + 2
    parts = x.split(1, dim=1)
    parts[0].fill_(0) if hasattr(parts[0], "fill_") else parts[0].mul_(0)
    assert x[:, 0].tolist() == [0.0, 0.0]
    for p in x.unbind(0) + x.chunk(2, 1):
        assert p._vbox is x._vbox


def test_view_errors() -> None:
    x = pdl.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"shape '\[4\]' is invalid for input of size 6"):
        x.reshape(4)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        x.view(-1, -1)
    with pytest.raises(RuntimeError, match="invalid shape dimension -2"):
        x.view(-2, 3)
    with pytest.raises(RuntimeError, match="number of dimensions in the tensor input does not match"):
        x.permute(0)
    with pytest.raises(RuntimeError, match="duplicate dims"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.transpose(0, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.unsqueeze(3)
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        pdl.zeros(2, 3, 4).t()
    with pytest.raises(RuntimeError, match="mT is only supported on matrices"):
        _ = pdl.zeros(3).mT
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match="select\\(\\): index 3 out of range"):
        x.select(1, 3)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        x.flatten(1, 0)
    with pytest.raises(RuntimeError, match="unflatten"):
        x.unflatten(1, (2, 2))
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        x.diagonal(0, 1, 1)


def test_views_gradcheck() -> None:
    a = rng.standard_normal((2, 3, 4))
    gradcheck(lambda x: x.permute(2, 0, 1).reshape(4, 6) * x.reshape(4, 6), [a], double=True)
    gradcheck(lambda x: x.transpose(0, 1).diagonal(0, 0, 2) ** 2, [a], double=True)
    gradcheck(lambda x: x.narrow(2, 1, 2).select(0, 1).unsqueeze(0) ** 2, [a], double=True)
    gradcheck(lambda x: x.movedim(0, -1).flatten(1).mT ** 2, [a], double=True)


# ----- repeat / tile -----------------------------------------------------------------------------
REPEATS = {
    "repeat": lambda x: x.repeat(2, 1, 3),
    "repeat_more": lambda x: x.repeat(2, 1, 1, 3),
    "repeat_tuple": lambda x: x.repeat((1, 2, 1)),
    "repeat_zero": lambda x: x.repeat(1, 0, 2),
    "tile": lambda x: x.tile((2,)),
    "tile_fn": lambda x: _lib(x).tile(x, (2, 1, 1, 2)),
    "repeat_interleave": lambda x: x.repeat_interleave(2, dim=1),
    "repeat_interleave_flat": lambda x: _lib(x).repeat_interleave(x, 2),
}


@pytest.mark.parametrize("name", list(REPEATS))
def test_repeat(name: str, device: str) -> None:
    parity(REPEATS[name], [_f32(2, 3, 2)], device=device, double=True)


def test_repeat_interleave_tensor_repeats(device: str) -> None:
    parity(lambda x, r: x.repeat_interleave(r, dim=0), [_f32(3, 2), np.array([2, 0, 1])], device=device, double=True)
    parity(lambda r: _lib(r).repeat_interleave(r), [np.array([2, 0, 3])], device=device)


def test_repeat_zero_dim_and_errors(device: str) -> None:
    parity(lambda x: x.repeat(3), [np.array(2.0, dtype=np.float32)], device=device, double=True)
    parity(lambda x: x.repeat(2, 3), [_f32(0, 2)], device=device, double=True)
    with pytest.raises(RuntimeError, match="can not be smaller than number of dimensions"):
        pdl.zeros(2, 3).repeat(2)
    gradcheck(lambda x: x.repeat(2, 1, 2) ** 2, [rng.standard_normal((2, 3))], double=True)
    gradcheck(lambda x: x.tile((3,)) ** 2, [rng.standard_normal((2, 3))], double=True)


# ----- cat / stack ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim: int, device: str) -> None:
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for k, s in enumerate(shapes):
        s[dim] = k + 1
    a, b, c = (_f32(*s) for s in shapes)
    parity(lambda x, y, z: _lib(x).cat([x, y, z], dim), [a, b, c], device=device, double=True)
    parity(lambda x, y, z: _lib(x).cat((x, y, z), dim=dim), [a, b, c], device=device, double=True, requires_grad=[1])
    parity(lambda x, y: _lib(x).concat([x, y], dim=dim), [a, b], device=device, double=True)
    parity(lambda x, y: _lib(x).concatenate([x, y], axis=dim), [a, b], device=device, double=True)


def test_cat_promotion_and_legacy_empty(device: str) -> None:
    a = _f32(2, 3)
    parity(lambda x, y: _lib(x).cat([x, y]), [a, np.arange(3).reshape(1, 3)], device=device, double=True)
    parity(lambda x, y: _lib(x).cat([x, y], 1), [a, _f32(0)], device=device, double=True)
    parity(lambda x, y: _lib(x).cat([y, x, y], -1), [a, np.zeros(0)], device=device, double=True)
    parity(
        lambda x, y: _lib(x).cat([x, y]), [np.arange(3, dtype=np.int32), np.arange(2, dtype=np.uint8)], device=device
    )
    parity(lambda x, y: _lib(x).cat([x, y]), [_f32(0, 3), _f32(2, 3)], device=device, double=True)
    parity(lambda x: _lib(x).cat([x]), [_f32(0)], device=device, double=True)


def test_cat_errors() -> None:
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        pdl.cat([])
    with pytest.raises(RuntimeError, match="zero-dimensional tensor \\(at position 0\\) cannot be concatenated"):
        pdl.cat([pdl.tensor(1.0)])
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        pdl.cat([pdl.zeros(2, 3), pdl.zeros(3, 3)], 1)
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions"):
        pdl.cat([pdl.zeros(2, 3), pdl.zeros(3)], 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        pdl.cat([pdl.zeros(2, 3)], 2)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        pdl.stack([pdl.zeros(2, 3), pdl.zeros(3)])


@pytest.mark.parametrize("dim", [0, 1, -1, 3])
def test_stack(dim: int, device: str) -> None:
    a, b = _f32(2, 3, 4), _f32(2, 3, 4)
    parity(lambda x, y: _lib(x).stack([x, y, x], dim), [a, b], device=device, double=True)
    parity(lambda x, y: _lib(x).stack((x, y), dim=dim), [a, b.astype(np.float64)], device=device, double=True)


def test_stack_zero_dim_and_variants(device: str) -> None:
    s = np.array(1.0, dtype=np.float32)
    parity(lambda x, y: _lib(x).stack([x, y]), [s, np.asarray(s + 1)], device=device, double=True)
    a, b = _f32(3), _f32(3)
    for name in ("hstack", "vstack", "dstack", "column_stack", "row_stack"):
        parity(lambda x, y, n=name: getattr(_lib(x), n)([x, y]), [a, b], device=device, double=True)
    m, n = _f32(2, 3), _f32(2, 3)
    for name in ("hstack", "vstack", "dstack", "column_stack"):
        parity(lambda x, y, n=name: getattr(_lib(x), n)([x, y]), [m, n], device=device, double=True)
    parity(lambda x: _lib(x).atleast_2d(x), [a], device=device, double=True)
    parity(lambda x: _lib(x).atleast_3d(x), [m], device=device, double=True)
    parity(lambda x, y: _lib(x).atleast_1d(x, y), [s, a], device=device, double=True)


def test_cat_stack_gradcheck() -> None:
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((1, 3))
    gradcheck(lambda x, y: pdl.cat([x, y * x[:1], x]) ** 2, [a, b], double=True)
    gradcheck(lambda x, y: pdl.stack([x[0], y[0] * x[1]], 1) ** 2, [a, b], double=True)


# ----- split / chunk / unbind ----------------------------------------------------------------------
SPLITS = {
    "split_int": lambda x: x.split(2, dim=2),
    "split_int_fn": lambda x: _lib(x).split(x, 3),
    "split_list": lambda x: x.split([1, 2], dim=1),
    "split_list_fn": lambda x: _lib(x).split(x, [2, 0, 3], -1),
    "split_partial_grad": lambda x: x.split(1, dim=1)[1],
    "chunk": lambda x: x.chunk(3, 2),
    "chunk_fn": lambda x: _lib(x).chunk(x, 4, -1),
    "chunk_more": lambda x: x.chunk(5, 0),
    "unbind": lambda x: x.unbind(1),
    "unbind_fn": lambda x: _lib(x).unbind(x, -1)[1:3],
    "tensor_split": lambda x: x.tensor_split(3, 2),
    "tensor_split_idx": lambda x: _lib(x).tensor_split(x, [1, 4], dim=2),
}


@pytest.mark.parametrize("name", list(SPLITS))
def test_split(name: str, device: str) -> None:
    parity(SPLITS[name], [_f32(2, 3, 5)], device=device, double=True)


def test_split_empty_and_errors(device: str) -> None:
    parity(lambda x: x.chunk(3), [_f32(0)], device=device, double=True)
    parity(lambda x: x.split(2), [_f32(0, 3)], device=device, double=True)
    parity(lambda x: x.unbind(0), [_f32(0, 3)], device=device)
    with pytest.raises(RuntimeError, match="split_size can only be 0"):
        pdl.zeros(5).split(0)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 5"):
        pdl.zeros(5).split([2, 2])
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0"):
        pdl.zeros(5).chunk(0)


def test_split_gradcheck() -> None:
    a = rng.standard_normal((3, 4))
    gradcheck(lambda x: x.split([1, 3], 1)[1] ** 2, [a], double=True)
    gradcheck(lambda x: x.chunk(2, 1)[0] * x.unbind(0)[2][:2], [a], double=True)


# ----- flip / roll / rot90 -------------------------------------------------------------------------
MOVES = {
    "flip": lambda x: x.flip(0, 2),
    "flip_list": lambda x: x.flip([-1]),
    "flip_fn": lambda x: _lib(x).flip(x, (1,)),
    "fliplr": lambda x: x.fliplr(),
    "flipud": lambda x: _lib(x).flipud(x),
    "roll": lambda x: x.roll(1, 2),
    "roll_multi": lambda x: x.roll((1, -5), (0, 2)),
    "roll_flat": lambda x: _lib(x).roll(x, 3),
    "rot90": lambda x: x.rot90(1, (1, 2)),
    "rot90_2": lambda x: x.rot90(2),
    "rot90_3": lambda x: _lib(x).rot90(x, -1, (2, 0)),
    "rot90_0": lambda x: x.rot90(4),
}


@pytest.mark.parametrize("name", list(MOVES))
def test_moves(name: str, device: str) -> None:
    parity(MOVES[name], [_f32(2, 3, 4)], device=device, double=True)


def test_moves_zero_dim_empty_and_copy(device: str) -> None:
    s = np.array(1.0, dtype=np.float32)
    parity(lambda x: x.flip(0), [s], device=device, double=True)
    parity(lambda x: x.roll(2), [s], device=device, double=True)
    parity(lambda x: x.flip(1).roll(1, 0), [_f32(0, 3)], device=device, double=True)
    x = pdl.ones(3)
    y = x.flip(0)
    x.add_(1)
    assert y.tolist() == [1.0, 1.0, 1.0]  # flip copies, like torch
    gradcheck(lambda x: x.flip(1).roll((1, 1), (0, 1)) ** 2, [rng.standard_normal((2, 3))], double=True)
    gradcheck(lambda x: x.rot90(1) ** 2, [rng.standard_normal((2, 3))], double=True)
    with pytest.raises(RuntimeError, match="dims has duplicates"):
        pdl.zeros(2, 3).flip(0, 0)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        pdl.zeros(2, 3).roll((1, 2), 0)


# ----- triangles and diagonals -------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1, -2, 5])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (0, 2)])
def test_tril_triu(k: int, shape: tuple, device: str) -> None:
    a = _f32(*shape)
    parity(lambda x: x.tril(k), [a], device=device, double=True)
    parity(lambda x: _lib(x).triu(x, diagonal=k), [a], device=device, double=True)

    def inplace(x: object) -> object:
        y = x * 1
        y.tril_(k)
        return y.triu_(-k)

    parity(inplace, [a], device=device, double=True)


def test_tril_int_and_errors(device: str) -> None:
    parity(lambda x: x.triu(), [np.arange(12).reshape(3, 4)], device=device)
    parity(lambda x: x.tril(), [np.ones((3, 3), dtype=bool)], device=device)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        pdl.zeros(3).tril()


DIAGS = {
    "diag_vec": lambda x: x[0, 0].diag(),
    "diag_vec_k": lambda x: _lib(x).diag(x[0, 0], 1),
    "diag_vec_neg": lambda x: x[0, 0].diag(-2),
    "diag_mat": lambda x: x[0].diag(),
    "diag_mat_k": lambda x: _lib(x).diag(x[1], -1),
    "diag_mat_big": lambda x: x[1].diag(7),
    "diag_embed": lambda x: x.diag_embed(),
    "diag_embed_args": lambda x: _lib(x).diag_embed(x, 1, 0, 2),
    "diag_embed_neg": lambda x: x.diag_embed(-1, -1, 1),
}


@pytest.mark.parametrize("name", list(DIAGS))
def test_diag(name: str, device: str) -> None:
    parity(DIAGS[name], [_f32(2, 3, 4)], device=device, double=True)


def test_diag_gradcheck_and_errors() -> None:
    a = rng.standard_normal((3, 4))
    gradcheck(lambda x: x.diag(1).diag() ** 2, [a], double=True)
    gradcheck(lambda x: x.diag_embed(1, 0, 2) ** 2, [a], double=True)
    x = pdl.zeros(3, 3)
    d = x.diagonal()
    d.add_(1)  # diagonal is a writable view, as in torch
    assert x.tolist() == np.eye(3).tolist()
    with pytest.raises(RuntimeError, match="1D or 2D"):
        pdl.zeros(2, 2, 2).diag()


# ----- pad ---------------------------------------------------------------------------------------
PADS = [(1, 2), (1, 2, 2, 1), (2, 0, -1, 1), (-1, 2, 1, -2), (-2, -1), (0, 0)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", PADS)
def test_pad(mode: str, widths: tuple, device: str) -> None:
    if mode == "reflect" and any(w > 2 for w in widths):
        pytest.skip("reflect needs pad < size")
    a = _f32(2, 3, 4)
    # torch's non-constant pad gradients carry a graph its constant pad's don't: compare second
    # derivatives (all zero: pad is linear) only for the constant mode
    parity(lambda x: (TF if isinstance(x, torch.Tensor) else pdl.nn.functional).pad(x, widths, mode), [a],
           device=device, double=mode == "constant")  # fmt: skip


def test_pad_constant_value_and_dims(device: str) -> None:
    f = lambda x, *a, **k: (TF if isinstance(x, torch.Tensor) else pdl.nn.functional).pad(x, *a, **k)
    parity(lambda x: f(x, (1, 1, 0, 2, 1, 0), value=-1.5), [_f32(2, 3, 4)], device=device, double=True)
    parity(lambda x: f(x, (1, 2), "constant", 3), [np.arange(6).reshape(2, 3)], device=device)
    parity(lambda x: f(x, (1, 2)), [_f32(0, 2)], device=device, double=True)
    parity(lambda x: f(x, (2, 1), mode="reflect"), [_f32(3, 4)], device=device)
    parity(lambda x: f(x, (1, 1, 1, 1), mode="replicate"), [_f32(1, 2, 3, 4)], device=device)
    parity(lambda x: f(x, (1, 1, 1, 1, 1, 1), mode="circular"), [_f32(1, 2, 3, 4, 2)], device=device)
    gradcheck(lambda x: pdl.nn.functional.pad(x, (1, 2, -1, 1)) ** 2, [rng.standard_normal((2, 3))], double=True)
    for mode in ("reflect", "replicate", "circular"):
        gradcheck(lambda x, m=mode: pdl.nn.functional.pad(x, (2, 1), m) ** 2, [rng.standard_normal((2, 3))],
                  double=True)  # fmt: skip


def test_pad_errors() -> None:
    pad = pdl.nn.functional.pad
    x = pdl.zeros(3, 4)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two times"):
        pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        pad(x, (4, 4), "reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D input"):
        pad(pdl.zeros(3), (1, 1), "reflect")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        pad(x, (1, 1), "reflect", value=1.0)
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        pad(x, (1, 1), "foo")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        pad(x, (5, 5), "circular")
    with pytest.raises(RuntimeError, match="negative"):
        pad(x, (-3, -3))

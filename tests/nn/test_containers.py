"""Containers and shape modules against torch: keys, indexing, mutation, forward and repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn


def _keys(module: nn.Module | torch.nn.Module) -> list[str]:
    return list(module.state_dict().keys())


def _pair(n: int = 4) -> tuple[nn.Sequential, torch.nn.Sequential]:
    ours = nn.Sequential(*[nn.Linear(i + 2, i + 3) for i in range(n)])
    ref = torch.nn.Sequential(*[torch.nn.Linear(i + 2, i + 3) for i in range(n)])
    return ours, ref


def _sizes(seq: nn.Sequential | torch.nn.Sequential) -> list[int]:
    return [m.in_features for m in seq]


# ----- Sequential --------------------------------------------------------------------------------


def test_sequential_positional_and_ordered_dict_forms() -> None:
    ours = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 4)), ("act", nn.ReLU()), ("out", nn.Linear(4, 2))]))
    ref = torch.nn.Sequential(
        OrderedDict([("fc", torch.nn.Linear(3, 4)), ("act", torch.nn.ReLU()), ("out", torch.nn.Linear(4, 2))])
    )
    assert _keys(ours) == _keys(ref)
    assert repr(ours) == repr(ref)
    ours.load_state_dict({k: pdl.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(ours(pdl.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-5)
    assert isinstance(ours.fc, nn.Linear)


@pytest.mark.parametrize("idx", [0, 2, -1, -4])
def test_sequential_int_index(idx: int) -> None:
    ours, ref = _pair()
    assert ours[idx].in_features == ref[idx].in_features


@pytest.mark.parametrize("idx", [slice(1, 3), slice(None, None, 2), slice(-2, None), slice(None, None, -1)])
def test_sequential_slice_index(idx: slice) -> None:
    ours, ref = _pair()
    sub_ours, sub_ref = ours[idx], ref[idx]
    assert type(sub_ours) is nn.Sequential
    assert _sizes(sub_ours) == _sizes(sub_ref)
    assert _keys(sub_ours) == _keys(sub_ref)


def test_sequential_index_errors() -> None:
    ours, ref = _pair()
    with pytest.raises(IndexError) as ours_err:
        ours[4]
    with pytest.raises(IndexError) as ref_err:
        ref[4]
    assert str(ours_err.value) == str(ref_err.value)
    with pytest.raises(IndexError):
        ours[-5]


@pytest.mark.parametrize("idx", [0, -1, 1, slice(1, 3), slice(None, None, 2)])
def test_sequential_delitem_renumbers(idx: int | slice) -> None:
    ours, ref = _pair()
    del ours[idx]
    del ref[idx]
    assert len(ours) == len(ref)
    assert _sizes(ours) == _sizes(ref)
    assert _keys(ours) == _keys(ref)


def test_sequential_append_extend_insert_setitem_pop() -> None:
    ours, ref = _pair(2)
    ours.append(nn.Linear(9, 9))
    ref.append(torch.nn.Linear(9, 9))
    ours.extend([nn.Linear(7, 7), nn.Linear(8, 8)])
    ref.extend([torch.nn.Linear(7, 7), torch.nn.Linear(8, 8)])
    ours.insert(1, nn.Linear(5, 5))
    ref.insert(1, torch.nn.Linear(5, 5))
    ours.insert(-1, nn.Linear(6, 6))
    ref.insert(-1, torch.nn.Linear(6, 6))
    ours[0] = nn.Linear(11, 1)
    ref[0] = torch.nn.Linear(11, 1)
    assert _sizes(ours) == _sizes(ref)
    assert _keys(ours) == _keys(ref)
    assert ours.pop(2).in_features == ref.pop(2).in_features
    assert _sizes(ours) == _sizes(ref)
    assert [m.in_features for m in iter(ours)] == _sizes(ref)
    with pytest.raises(IndexError, match="Index out of range: 99"):
        ours.insert(99, nn.ReLU())
    with pytest.raises(AssertionError):
        ours.insert(0, "not a module")


def test_sequential_add_mul() -> None:
    ours, ref = _pair(2)
    assert _sizes(ours + ours[:1]) == _sizes(ref + ref[:1])
    assert _sizes(ours * 2) == _sizes(ref * 2)
    assert _sizes(2 * ours) == _sizes(2 * ref)
    ours += ours[:1]
    ref += ref[:1]
    assert _sizes(ours) == _sizes(ref)
    with pytest.raises(ValueError):
        ours + nn.ModuleList()
    with pytest.raises(ValueError):
        ours * 0


def test_sequential_forward_chains_and_backward() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    model.load_state_dict({k: pdl.tensor(v.detach().numpy()) for k, v in twin.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((6, 3)).astype("float32")
    model(pdl.tensor(x)).sum().backward()
    twin(torch.tensor(x)).sum().backward()
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


# ----- ModuleList / ModuleDict -------------------------------------------------------------------


def test_module_list_semantics() -> None:
    ours = nn.ModuleList([nn.Linear(i + 1, 1) for i in range(4)])
    ref = torch.nn.ModuleList([torch.nn.Linear(i + 1, 1) for i in range(4)])
    assert _keys(ours) == _keys(ref)
    assert ours[-1].in_features == ref[-1].in_features
    assert type(ours[1:3]) is nn.ModuleList
    assert _sizes(ours[1:3]) == _sizes(ref[1:3])
    del ours[1]
    del ref[1]
    ours.insert(0, nn.Linear(9, 1))
    ref.insert(0, torch.nn.Linear(9, 1))
    ours += [nn.Linear(7, 1)]
    ref += [torch.nn.Linear(7, 1)]
    assert _sizes(ours) == _sizes(ref)
    assert _keys(ours) == _keys(ref)
    assert _sizes(ours + ours) == _sizes(ref + ref)
    assert ours.pop(-1).in_features == ref.pop(-1).in_features
    with pytest.raises(IndexError, match="index 10 is out of range"):
        ours[10]
    with pytest.raises(TypeError):
        ours.extend(3)


def test_module_list_repr_compresses_repeats() -> None:
    ours = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    ref = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2)])
    assert repr(ours) == repr(ref)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


def test_module_dict_semantics() -> None:
    ours = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.ReLU()})
    ref = torch.nn.ModuleDict({"b": torch.nn.Linear(1, 1), "a": torch.nn.ReLU()})
    assert list(ours.keys()) == list(ref.keys()) == ["b", "a"]  # insertion order, not sorted
    ours.update([("c", nn.Tanh())])
    ref.update([("c", torch.nn.Tanh())])
    ours["d"] = nn.Linear(2, 2)
    ref["d"] = torch.nn.Linear(2, 2)
    assert list(ours) == list(ref)
    assert "a" in ours and "z" not in ours
    assert type(ours.pop("a")).__name__ == "ReLU"
    del ours["c"]
    assert list(ours.keys()) == ["b", "d"]
    assert _keys(ours) == ["b.weight", "b.bias", "d.weight", "d.bias"]
    assert repr(ours) == repr(torch.nn.ModuleDict({"b": torch.nn.Linear(1, 1), "d": torch.nn.Linear(2, 2)}))
    with pytest.raises(ValueError):
        ours.update([("x", nn.ReLU(), 3)])
    ours.clear()
    assert len(ours) == 0


# ----- ParameterList / ParameterDict -------------------------------------------------------------


def _torch_repr(module: nn.Module) -> str:
    return repr(module).replace("portable_dl.", "torch.")


def test_parameter_list() -> None:
    ours = nn.ParameterList([nn.Parameter(pdl.zeros(2, 3)), pdl.ones(4)])
    ref = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.ones(4)])
    assert isinstance(ours[1], nn.Parameter)  # plain tensors are wrapped
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()] == ["0", "1"]
    ours.append(pdl.zeros(1))
    ref.append(torch.zeros(1))
    ours.extend([pdl.zeros(2, 2)])
    ref.extend([torch.zeros(2, 2)])
    assert len(ours) == len(ref) == 4
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in ref]
    assert [tuple(p.shape) for p in ours[1:3]] == [tuple(p.shape) for p in ref[1:3]]
    assert tuple(ours[-1].shape) == (2, 2)
    assert _torch_repr(ours) == repr(ref)
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        ours()
    with pytest.raises(TypeError):
        ours.extend(pdl.zeros(2))


def test_parameter_dict() -> None:
    ours = nn.ParameterDict({"w": nn.Parameter(pdl.zeros(2)), "a": pdl.ones(3)})
    ref = torch.nn.ParameterDict({"w": torch.nn.Parameter(torch.zeros(2)), "a": torch.ones(3)})
    assert list(ours.keys()) == list(ref.keys())  # a plain dict is inserted sorted, like torch
    assert isinstance(ours["a"], nn.Parameter)
    ours["z"] = pdl.zeros(1)
    ref["z"] = torch.zeros(1)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert _torch_repr(ours) == repr(ref)
    assert "w" in ours and ours.get("missing") is None
    assert ours.pop("w") is not None
    assert list(ours) == ["a", "z"]
    k, _ = ours.popitem()
    assert k == "z" and list(ours) == ["a"]
    ours.setdefault("q", pdl.zeros(2))
    assert list((ours | nn.ParameterDict({"r": pdl.zeros(1)})).keys()) == ["a", "q", "r"]
    with pytest.raises(TypeError):
        ours[3] = pdl.zeros(1)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        ours(None)


# ----- Identity / Flatten / Unflatten ------------------------------------------------------------


def test_identity_flatten_unflatten() -> None:
    x = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
    ident = nn.Identity(54, unused="x")
    assert ident(pdl.tensor(x)).shape == (2, 3, 4, 5)
    for args in [(), (0, 2), (2,), (1, -2)]:
        ours, ref = nn.Flatten(*args), torch.nn.Flatten(*args)
        assert repr(ours) == repr(ref)
        assert tuple(ours(pdl.tensor(x)).shape) == tuple(ref(torch.tensor(x)).shape)
    for dim, size in [(1, (3, 1)), (-1, [5, 1]), (2, (2, -1))]:
        ours, ref = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
        assert repr(ours) == repr(ref)
        np.testing.assert_array_equal(ours(pdl.tensor(x)).numpy(), ref(torch.tensor(x)).numpy())
    with pytest.raises(TypeError):
        nn.Unflatten(1, 3)
    assert repr(nn.Identity()) == repr(torch.nn.Identity())


def test_nested_container_repr_matches_torch() -> None:
    ours = nn.Sequential(
        nn.Flatten(),
        nn.ModuleList([nn.Identity(), nn.Identity()]),
        nn.ModuleDict({"a": nn.Identity(), "b": nn.Sequential(nn.Linear(2, 3), nn.ReLU())}),
        nn.Unflatten(1, (2, 3)),
    )
    ref = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.ModuleList([torch.nn.Identity(), torch.nn.Identity()]),
        torch.nn.ModuleDict(
            {"a": torch.nn.Identity(), "b": torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())}
        ),
        torch.nn.Unflatten(1, (2, 3)),
    )
    assert repr(ours) == repr(ref)

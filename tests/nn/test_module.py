"""``nn.Module`` semantics against torch: registration, traversal, state_dict, hooks, modes, conversions, repr."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn


def _build(lib: Any) -> Any:
    """The same custom model in either library (``lib`` is ``portable_dl`` or ``torch``)."""
    tnn = lib.nn

    class Block(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = tnn.Parameter(lib.ones(3))
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.fc = tnn.Linear(3, 3)

        def forward(self, x: Any) -> Any:
            return self.fc(x) * self.scale

    class Net(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = tnn.Linear(2, 3)
            self.block = Block()
            self.shared = self.block  # the same submodule under two names
            self.head = tnn.Sequential(tnn.ReLU(), tnn.Linear(3, 1))
            self.register_parameter("bias", tnn.Parameter(lib.zeros(1)))
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))

        def forward(self, x: Any) -> Any:
            return self.head(self.block(self.embed(x))) + self.bias

    return Net()


@pytest.fixture
def pair() -> tuple[Any, Any]:
    ours, ref = _build(pdl), _build(torch)
    ours.load_state_dict({k: pdl.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ours, ref


def _names(items: Any) -> list[str]:
    return [name for name, _ in items]


# ----- registration and traversal ----------------------------------------------------------------


def test_named_parameters_buffers_modules_children(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    assert _names(ours.named_parameters()) == _names(ref.named_parameters())
    assert _names(ours.named_parameters(remove_duplicate=False)) == _names(ref.named_parameters(remove_duplicate=False))
    assert _names(ours.named_parameters(prefix="m", recurse=False)) == _names(
        ref.named_parameters(prefix="m", recurse=False)
    )
    assert _names(ours.named_buffers()) == _names(ref.named_buffers())
    assert _names(ours.named_buffers(remove_duplicate=False)) == _names(ref.named_buffers(remove_duplicate=False))
    assert _names(ours.named_modules()) == _names(ref.named_modules())
    assert _names(ours.named_modules(remove_duplicate=False)) == _names(ref.named_modules(remove_duplicate=False))
    assert _names(ours.named_modules(prefix="root")) == _names(ref.named_modules(prefix="root"))
    assert _names(ours.named_children()) == _names(ref.named_children())
    assert len(list(ours.children())) == len(list(ref.children()))
    assert len(list(ours.parameters())) == len(list(ref.parameters()))
    assert len(list(ours.buffers())) == len(list(ref.buffers()))
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in ref.modules()]


def _order(lib: Any) -> tuple[list[str], list[str]]:
    tnn = lib.nn
    m = tnn.Module()
    m.b = tnn.Parameter(lib.zeros(1))
    m.a = tnn.Parameter(lib.zeros(1))
    m.b = tnn.Parameter(lib.ones(2))  # re-assignment keeps the registration position
    m.z = tnn.Linear(1, 1)
    m.y = tnn.Linear(1, 1)
    m.z = tnn.Linear(2, 2)
    m.register_buffer("buf", lib.zeros(1))
    m.buf = lib.ones(1)
    m.c = tnn.Parameter(lib.zeros(1))
    return list(m.state_dict().keys()), _names(m.named_children())


def test_registration_order_matches_torch() -> None:
    assert _order(pdl) == _order(torch)


def test_state_dict_keys_and_values(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(sd.keys()) == list(ref_sd.keys())
    assert "block.scratch" not in sd  # non-persistent buffers stay out
    assert "shared.fc.weight" in sd  # a shared submodule is saved under each name
    for key, value in sd.items():
        np.testing.assert_array_equal(value.numpy(), ref_sd[key].numpy(), err_msg=key)
        assert not value.requires_grad
    assert list(ours.state_dict(prefix="p.").keys()) == list(ref.state_dict(prefix="p.").keys())
    kept = ours.state_dict(keep_vars=True)
    assert kept["embed.weight"] is ours.embed.weight


def test_forward_matches_torch(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    x = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    np.testing.assert_allclose(ours(pdl.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-5)


# ----- load_state_dict ---------------------------------------------------------------------------


def _error(fn: Any) -> str:
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value)


def _to_ours(sd: dict) -> dict:
    return {k: pdl.tensor(v.detach().numpy()) for k, v in sd.items()}


def test_load_state_dict_strict_error_messages(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    bad = dict(ref.state_dict())
    del bad["embed.bias"]
    del bad["head.1.weight"]
    bad["extra"] = torch.zeros(1)
    bad["block.fc.unknown"] = torch.zeros(1)
    bad["bias"] = torch.zeros(4)
    ours_msg = _error(lambda: ours.load_state_dict(_to_ours(bad)))
    ref_msg = _error(lambda: ref.load_state_dict(bad))
    assert ours_msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    ours_lines = ours_msg.split("\n\t")
    ref_lines = ref_msg.split("\n\t")
    assert ours_lines[0] == ref_lines[0]
    assert ours_lines[1] == ref_lines[1]  # missing keys (same order)
    assert ours_lines[2] == ref_lines[2]  # unexpected keys (torch's module-by-module order)
    assert ours_lines[3:] == ref_lines[3:]  # size mismatches
    assert ours_msg == ref_msg


def test_load_state_dict_size_mismatch_raises_even_when_not_strict(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    bad = dict(ref.state_dict())
    bad["embed.weight"] = torch.zeros(5, 5)
    assert _error(lambda: ours.load_state_dict(_to_ours(bad), strict=False)) == _error(
        lambda: ref.load_state_dict(bad, strict=False)
    )


def test_load_state_dict_not_strict_return_value(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    partial = dict(ref.state_dict())
    del partial["head.1.bias"]
    for key in ["nope", "x.y", "block.fc.q", "embed.weight.z", "block"]:
        partial[key] = torch.zeros(1)
    result = ours.load_state_dict(_to_ours(partial), strict=False)
    ref_result = ref.load_state_dict(partial, strict=False)
    assert result.missing_keys == ref_result.missing_keys == ["head.1.bias"]
    assert result.unexpected_keys == ref_result.unexpected_keys
    assert repr(result) == repr(ref_result)
    missing, unexpected = result
    assert missing == ["head.1.bias"] and "nope" in unexpected
    full = ours.load_state_dict(_to_ours(ref.state_dict()))
    assert full.missing_keys == [] and full.unexpected_keys == []
    assert repr(full) == repr(ref.load_state_dict(ref.state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_copies_in_place(pair: tuple[Any, Any]) -> None:
    ours, _ = pair
    weight = ours.embed.weight
    new = {k: v * 0 + 3 for k, v in ours.state_dict().items()}
    ours.load_state_dict(new)
    assert ours.embed.weight is weight
    assert np.all(weight.detach().numpy() == 3)


# ----- modes, hooks, apply, grads ----------------------------------------------------------------


def test_train_eval_propagate() -> None:
    calls = []

    class Custom(nn.Module):
        def train(self, mode: bool = True) -> nn.Module:
            calls.append(mode)
            return super().train(mode)

    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), Custom()))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    assert calls == [False, True]  # a child's overriding train() is called, as in torch
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_forward_hooks() -> None:
    log = []
    model = nn.Linear(2, 2)

    def pre(module: nn.Module, args: tuple) -> Any:
        log.append("pre")
        return (args[0] * 0,)

    def pre_first(module: nn.Module, args: tuple) -> None:
        log.append("pre_first")

    def pre_kwargs(module: nn.Module, args: tuple, kwargs: dict) -> Any:
        log.append("pre_kwargs")
        return args, kwargs

    def post(module: nn.Module, args: tuple, output: Any) -> Any:
        log.append("post")
        return output + 1

    def post_kwargs(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        log.append("post_kwargs")

    handles = [
        model.register_forward_pre_hook(pre),
        model.register_forward_pre_hook(pre_first, prepend=True),
        model.register_forward_pre_hook(pre_kwargs, with_kwargs=True),
        model.register_forward_hook(post),
        model.register_forward_hook(post_kwargs, with_kwargs=True),
    ]
    out = model(pdl.ones(1, 2))
    assert log == ["pre_first", "pre", "pre_kwargs", "post", "post_kwargs"]
    np.testing.assert_allclose(out.detach().numpy(), model.bias.detach().numpy()[None] + 1, rtol=1e-6)
    for handle in handles:
        handle.remove()
    log.clear()
    model(pdl.ones(1, 2))
    assert log == []
    with model.register_forward_hook(post):
        model(pdl.ones(1, 2))
    model(pdl.ones(1, 2))
    assert log == ["post"]


def test_apply_order_matches_torch() -> None:
    ours, ref = [], []
    _build(pdl).apply(lambda m: ours.append(type(m).__name__))
    _build(torch).apply(lambda m: ref.append(type(m).__name__))
    assert ours == ref


def test_zero_grad_and_requires_grad_() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model(pdl.ones(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_to_dtype_keeps_parameter_identity() -> None:
    model = _build(pdl)
    weight = model.embed.weight
    model(pdl.ones(1, 2)).sum().backward()
    assert model.to(pdl.float64) is model
    assert model.embed.weight is weight and isinstance(weight, nn.Parameter)
    assert weight.dtype == pdl.float64 and weight.grad.dtype == pdl.float64
    assert model.steps.dtype == pdl.int64  # integer buffers are not cast
    assert model.block.running.dtype == pdl.float64
    assert model.float().embed.weight.dtype == pdl.float32
    assert model.double().embed.weight is weight
    with pytest.raises(TypeError, match="only accepts floating point"):
        model.to(pdl.int32)


# ----- lookup, assignment errors, repr -----------------------------------------------------------


def test_get_submodule_parameter_buffer(pair: tuple[Any, Any]) -> None:
    ours, ref = pair
    assert ours.get_submodule("head.1") is ours.head[1]
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("block.fc.weight") is ours.block.fc.weight
    assert ours.get_buffer("block.running") is ours.block.running
    for fn, target in [
        ("get_submodule", "head.7"),
        ("get_submodule", "embed.weight"),
        ("get_parameter", "block.running"),
        ("get_parameter", "block.nothing"),
        ("get_buffer", "block.scale"),
    ]:
        with pytest.raises(AttributeError) as ours_err:
            getattr(ours, fn)(target)
        with pytest.raises(AttributeError) as ref_err:
            getattr(ref, fn)(target)
        assert str(ours_err.value) == str(ref_err.value), (fn, target)


def _error_text(lib: Any, action: Any) -> tuple[type, str]:
    try:
        action(lib)
    except Exception as exc:
        return type(exc), str(exc).replace("portable_dl", "torch")
    return type(None), ""


def _assign_tensor_to_param(lib: Any) -> None:
    m = lib.nn.Linear(2, 2)
    m.weight = lib.zeros(2, 2)


def _assign_int_to_param(lib: Any) -> None:
    lib.nn.Linear(2, 2).bias = 3


def _assign_int_to_module(lib: Any) -> None:
    s = lib.nn.Sequential(lib.nn.ReLU())
    setattr(s, "0", 5)


def _assign_int_to_buffer(lib: Any) -> None:
    m = lib.nn.Module()
    m.register_buffer("b", lib.zeros(1))
    m.b = "text"


def _register_bad_names(lib: Any) -> None:
    lib.nn.Module().register_parameter("a.b", None)


def _register_empty_buffer_name(lib: Any) -> None:
    lib.nn.Module().register_buffer("", None)


def _register_existing(lib: Any) -> None:
    m = lib.nn.Module()
    m.register_buffer("x", lib.zeros(1))
    m.register_parameter("x", lib.nn.Parameter(lib.zeros(1)))


def _register_non_parameter(lib: Any) -> None:
    lib.nn.Module().register_parameter("w", lib.zeros(1))


def _add_bad_module(lib: Any) -> None:
    lib.nn.Module().add_module("m", 3)


def _before_init(lib: Any) -> None:
    class Early(lib.nn.Module):
        def __init__(self) -> None:
            self.w = lib.nn.Parameter(lib.zeros(1))

    Early()


def _missing_attribute(lib: Any) -> None:
    _ = lib.nn.Linear(1, 1).nothing


@pytest.mark.parametrize(
    "action",
    [_assign_tensor_to_param, _assign_int_to_param, _assign_int_to_module, _assign_int_to_buffer,
     _register_bad_names, _register_empty_buffer_name, _register_existing, _register_non_parameter,
     _add_bad_module, _before_init, _missing_attribute],
)  # fmt: skip
def test_assignment_and_registration_errors_match_torch(action: Any) -> None:
    ours = _error_text(pdl, action)
    ref = _error_text(torch, action)
    assert ours[0] is ref[0]
    assert ours[1] == ref[1]


def test_assigning_none_and_deleting() -> None:
    m = nn.Linear(2, 2)
    m.bias = None
    assert m.bias is None and "bias" not in m.state_dict()
    del m.weight
    assert list(m.state_dict()) == []
    with pytest.raises(AttributeError):
        _ = m.weight


def test_repr_of_nested_model_matches_torch() -> None:
    def build(lib: Any) -> Any:
        tnn = lib.nn
        return tnn.Sequential(
            tnn.Linear(4, 8),
            tnn.ReLU(),
            tnn.Sequential(tnn.Linear(8, 8, bias=False), tnn.Dropout(0.1)),
            tnn.ModuleList([tnn.Linear(8, 8) for _ in range(3)]),
            tnn.ModuleDict({"out": tnn.Linear(8, 2), "act": tnn.Identity()}),
            tnn.Flatten(),
        )

    assert repr(build(pdl)) == repr(build(torch))
    assert repr(_build(pdl)) == repr(_build(torch))
    assert repr(nn.Module()) == repr(torch.nn.Module()) == "Module()"


def test_deepcopy_gives_independent_model_with_sharing_kept() -> None:
    import copy

    model = _build(pdl)
    clone = copy.deepcopy(model)
    assert clone.shared is clone.block and clone.block is not model.block
    assert isinstance(clone.embed.weight, nn.Parameter) and clone.embed.weight is not model.embed.weight
    assert list(clone.state_dict()) == list(model.state_dict())
    for (key, a), (_, b) in zip(clone.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=key)
    nn.init.zeros_(clone.embed.weight)
    assert np.any(model.embed.weight.detach().numpy() != 0)


def test_with_kwargs_pre_hook_must_return_args_and_kwargs() -> None:
    for lib in (pdl, torch):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
        with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\), but got 3"):
            m(lib.ones(1))

"""Module._load_from_state_dict (per-module loading step, BatchNorm's old-checkpoint rule) and full backward
(pre-)hooks, checked against torch twins."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import portable_dl as pdl

from ._twin import load_from_torch


def _np(value: Any) -> Any:
    return None if value is None else value.detach().cpu().numpy().copy()


def _assert_same(ours: Any, theirs: Any) -> None:
    """Compare nested logs of (strings, arrays, None) entry by entry."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), (ours, theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    else:
        assert ours == theirs


def _mlp(lib: Any) -> Any:
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))


def _twins(make: Any) -> tuple:
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(pdl)
    load_from_torch(ours, theirs)
    return ours, theirs


def _hooked_run(lib: Any, model: Any, x: np.ndarray, *, scale_pre: float, scale_full: float) -> tuple:
    log: list = []

    def pre(mod: Any, grad_output: tuple) -> Any:
        log.append(("pre", type(mod).__name__, [_np(g) for g in grad_output]))
        return tuple(None if g is None else g * scale_pre for g in grad_output) if scale_pre != 1 else None

    def full(mod: Any, grad_input: tuple, grad_output: tuple) -> Any:
        log.append(("full", type(mod).__name__, [_np(g) for g in grad_input], [_np(g) for g in grad_output]))
        return tuple(None if g is None else g * scale_full for g in grad_input) if scale_full != 1 else None

    handles = []
    for child in model:
        handles.append(child.register_full_backward_hook(full))
        handles.append(child.register_full_backward_pre_hook(pre))
    handles.append(model.register_full_backward_hook(full))
    handles.append(model.register_full_backward_pre_hook(pre))
    xt = lib.tensor(x, requires_grad=True)
    (model(xt) * lib.tensor(np.array([1.0, -2.0], dtype="float32"))).sum().backward()
    grads = [_np(p.grad) for p in model.parameters()]
    for h in handles:
        h.remove()
    return log, _np(xt.grad), grads


@pytest.mark.parametrize(("scale_pre", "scale_full"), [(1.0, 1.0), (2.0, 1.0), (1.0, 3.0), (0.5, -1.0)])
def test_sequential_hook_order_and_values_match_torch(scale_pre: float, scale_full: float) -> None:
    ours, theirs = _twins(_mlp)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    got = _hooked_run(pdl, ours, x, scale_pre=scale_pre, scale_full=scale_full)
    want = _hooked_run(torch, theirs, x, scale_pre=scale_pre, scale_full=scale_full)
    assert [e[:2] for e in got[0]] == [e[:2] for e in want[0]]
    _assert_same(got, want)
    # after remove() no hook runs any more
    xt = pdl.tensor(x, requires_grad=True)
    ours(xt).sum().backward()
    assert not ours._backward_hooks and not ours[0]._backward_pre_hooks


def _linear_run(lib: Any, model: Any, x: np.ndarray, x_requires_grad: bool) -> tuple:
    log: list = []
    model.register_full_backward_hook(
        lambda m, gi, go: log.append(("full", [_np(g) for g in gi], [_np(g) for g in go]))
    )
    model.register_full_backward_pre_hook(lambda m, go: log.append(("pre", [_np(g) for g in go])))
    xt = lib.tensor(x, requires_grad=x_requires_grad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model(xt).pow(2).sum().backward()
    warned = any("Full backward hook is firing" in str(w.message) for w in caught)
    return log, warned, _np(model.weight.grad)


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_linear_grad_input_none_when_input_needs_no_grad(x_requires_grad: bool) -> None:
    ours, theirs = _twins(lambda lib: lib.nn.Linear(3, 2))
    x = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")
    got = _linear_run(pdl, ours, x, x_requires_grad)
    want = _linear_run(torch, theirs, x, x_requires_grad)
    _assert_same(got, want)
    assert got[1] == (not x_requires_grad)


def _make_two_io(lib: Any) -> Any:
    class TwoIO(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)

        def forward(self, a: Any, flag: Any, b: Any) -> tuple:
            h = self.fc(a) * b
            return h.sum(1), h * 2, flag

    return TwoIO()


def _two_io_run(lib: Any, model: Any, a: np.ndarray, b: np.ndarray, replace: bool) -> tuple:
    log: list = []

    def full(m: Any, gi: tuple, go: tuple) -> Any:
        log.append(("full", [_np(g) for g in gi], [_np(g) for g in go]))
        if replace:
            return tuple(None if g is None else g + 1 for g in gi)
        return None

    def pre(m: Any, go: tuple) -> Any:
        log.append(("pre", [_np(g) for g in go]))
        if replace:
            return tuple(None if g is None else g * 3 for g in go)
        return None

    model.register_full_backward_hook(full)
    model.register_full_backward_pre_hook(pre)
    at = lib.tensor(a, requires_grad=True)
    bt = lib.tensor(b)  # needs no grad: its grad_input entry is None
    first, _second, flag = model(at, "flag", bt)
    assert flag == "flag"
    (first * lib.tensor(np.arange(4, dtype="float32"))).sum().backward()  # the second output gets no grad
    return log, _np(at.grad), [_np(p.grad) for p in model.parameters()]


@pytest.mark.parametrize("replace", [False, True])
def test_tuple_outputs_non_tensor_args_and_unused_outputs(replace: bool) -> None:
    ours, theirs = _twins(_make_two_io)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3)).astype("float32")
    b = rng.standard_normal((4, 3)).astype("float32")
    got = _two_io_run(pdl, ours, a, b, replace)
    want = _two_io_run(torch, theirs, a, b, replace)
    _assert_same(got, want)
    # as in torch: grad_input is (grad a, None for the str, zeros for b, which needs no grad) and the
    # unused output's grad_output is None
    assert got[0][1][1][1] is None and not got[0][1][1][2].any()
    assert got[0][0][1][1] is None


def _order_run(lib: Any) -> list:
    model = lib.nn.Linear(2, 2)
    calls: list = []
    for name, prepend in (("a", False), ("b", True), ("c", False)):
        model.register_full_backward_hook(lambda m, gi, go, n=name: calls.append("full_" + n), prepend=prepend)
        model.register_full_backward_pre_hook(lambda m, go, n=name: calls.append("pre_" + n), prepend=prepend)
    model.register_forward_hook(lambda m, i, o: calls.append("fwd"))
    model.register_forward_pre_hook(lambda m, i: calls.append("fwd_pre"))
    model(lib.ones(1, 2, requires_grad=True)).sum().backward()
    with lib.no_grad():
        model(lib.ones(1, 2, requires_grad=True))
    return calls


def test_prepend_order_matches_torch() -> None:
    assert _order_run(pdl) == _order_run(torch)


def _bad_count(lib: Any, pre: bool) -> str:
    model = lib.nn.Linear(2, 2)
    if pre:
        model.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    else:
        model.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError) as info:
        model(lib.ones(1, 2, requires_grad=True)).sum().backward()
    return str(info.value)


@pytest.mark.parametrize("pre", [False, True])
def test_wrong_number_of_returned_grads_raises_like_torch(pre: bool) -> None:
    assert _bad_count(pdl, pre) == _bad_count(torch, pre)


# ----- load_state_dict / _load_from_state_dict ---------------------------------------------------------


def _make_renaming(lib: Any) -> Any:
    class Renaming(lib.nn.Module):
        """Accepts an older checkpoint layout that called the weight ``w``."""

        def __init__(self) -> None:
            super().__init__()
            self.fc = lib.nn.Linear(2, 2)

        def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
            for suffix in ("weight", "bias"):
                old = prefix + "fc.old_" + suffix
                if old in state_dict:
                    state_dict[prefix + "fc." + suffix] = state_dict.pop(old)
            super()._load_from_state_dict(state_dict, prefix, *args)

    return lib.nn.Sequential(Renaming())


def test_load_from_state_dict_override_matches_torch() -> None:
    ours, theirs = _make_renaming(pdl), _make_renaming(torch)
    w = np.arange(4, dtype="float32").reshape(2, 2)
    bias = np.array([5.0, 6.0], dtype="float32")
    got = ours.load_state_dict({"0.fc.old_weight": pdl.tensor(w), "0.fc.old_bias": pdl.tensor(bias)})
    want = theirs.load_state_dict({"0.fc.old_weight": torch.tensor(w), "0.fc.old_bias": torch.tensor(bias)})
    assert repr(got) == repr(want)
    np.testing.assert_array_equal(_np(ours[0].fc.weight), w)
    np.testing.assert_array_equal(_np(ours[0].fc.bias), bias)


def test_state_dict_metadata_versions_match_torch() -> None:
    ours, theirs = _twins(lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2)))
    assert dict(ours.state_dict()._metadata) == dict(theirs.state_dict()._metadata)


def _bn_load(lib: Any, keep_metadata: bool, strict: bool) -> tuple:
    src = lib.nn.Sequential(lib.nn.BatchNorm1d(3))
    src.train()
    src(lib.tensor(np.random.default_rng(3).standard_normal((4, 3)).astype("float32")))
    sd = src.state_dict()
    del sd["0.num_batches_tracked"]
    if not keep_metadata:
        sd = dict(sd)  # an old checkpoint: no version recorded
    dst = lib.nn.Sequential(lib.nn.BatchNorm1d(3))
    with lib.no_grad():
        dst[0].num_batches_tracked.add_(7)
    try:
        result = repr(dst.load_state_dict(sd, strict=strict))
    except RuntimeError as err:
        result = str(err)
    return result, int(dst[0].num_batches_tracked.item()), _np(dst[0].running_mean), _np(dst[0].running_var)


@pytest.mark.parametrize(("keep_metadata", "strict"), [(False, True), (True, True), (True, False)])
def test_batchnorm_checkpoint_without_num_batches_tracked(keep_metadata: bool, strict: bool) -> None:
    _assert_same(_bn_load(pdl, keep_metadata, strict), _bn_load(torch, keep_metadata, strict))


def test_load_state_dict_does_not_mutate_callers_dict() -> None:
    bn = pdl.nn.BatchNorm2d(2)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    bn.load_state_dict(sd)
    assert "num_batches_tracked" not in sd


def test_errors_keep_torch_text_and_order() -> None:
    def errors(lib: Any) -> str:
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        sd = {"0.weight": lib.zeros(3, 3), "1.weight": lib.zeros(3), "1.extra": lib.zeros(1), "2.x": lib.zeros(1)}
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict(sd)
        return str(info.value)

    assert errors(pdl) == errors(torch)


# ----- state_dict hooks ---------------------------------------------------------------------------------


def _state_dict_hooks_run(lib: Any) -> tuple:
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
    calls: list = []
    for name, module in model.named_modules():
        module.register_state_dict_pre_hook(lambda m, prefix, keep, n=name: calls.append(("pre", n, prefix, keep)))

        def post(m: Any, sd: dict, prefix: str, meta: dict, n: str = name) -> Any:
            calls.append(("post", n, prefix, list(sd), dict(meta)))
            if n == "":  # the root's replacement is honoured
                return {"only": sd[prefix + "0.weight"]}
            if n == "1":  # a child's is not
                return {"ignored": 1}
            return None

        module._register_state_dict_hook(post)

    def drop_bias(m: Any, sd: dict, prefix: str, meta: dict) -> None:
        del sd[prefix + "bias"]

    model[1][0].register_state_dict_post_hook(drop_bias)
    first = model.state_dict(prefix="p.")
    second = model[1].state_dict()
    return calls, list(first), list(second)


def test_state_dict_hooks_match_torch() -> None:
    _assert_same(_state_dict_hooks_run(pdl), _state_dict_hooks_run(torch))


def test_state_dict_post_hook_must_return_none() -> None:
    def run(lib: Any) -> str:
        model = lib.nn.Linear(2, 2)

        def hook(m: Any, sd: dict, prefix: str, meta: dict) -> Any:
            return sd

        model.register_state_dict_post_hook(hook)
        with pytest.raises(RuntimeError) as info:
            model.state_dict()
        with pytest.raises(RuntimeError) as again:
            model._register_state_dict_hook(hook)
        return str(info.value) + str(again.value)

    assert run(pdl) == run(torch)


def test_save_to_state_dict_override() -> None:
    def make(lib: Any) -> Any:
        class Scaled(lib.nn.Linear):
            def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
                super()._save_to_state_dict(destination, prefix, keep_vars)
                destination[prefix + "weight"] = destination[prefix + "weight"] * 2

        return lib.nn.Sequential(Scaled(2, 2))

    ours, theirs = make(pdl), make(torch)
    got, want = ours.state_dict(), theirs.state_dict()
    assert list(got) == list(want)
    np.testing.assert_allclose(_np(got["0.weight"]), 2 * _np(ours[0].weight))
    np.testing.assert_allclose(_np(want["0.weight"]), 2 * _np(theirs[0].weight))
    np.testing.assert_allclose(_np(got["0.bias"]), _np(ours[0].bias))

"""Grad modes: no_grad / enable_grad / inference_mode / set_grad_enabled as context managers and decorators,
nesting, exceptions, generators and thread-locality, checked side by side with PyTorch."""

from __future__ import annotations

import threading

import pytest
import torch

import portable_dl as pdl

MODULES = [pdl, torch]


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    yield
    assert pdl.is_grad_enabled() and torch.is_grad_enabled()


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_context_managers(m) -> None:
    x = m.ones(2, requires_grad=True)
    assert m.is_grad_enabled() and m.autograd.grad_mode is not None
    with m.no_grad():
        assert not m.is_grad_enabled()
        y = x * 2
        with m.enable_grad():
            assert m.is_grad_enabled()
            z = x * 2
        assert not m.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    with m.inference_mode():
        assert not m.is_grad_enabled()
        assert not (x * 2).requires_grad
    with m.inference_mode(False):
        assert m.is_grad_enabled()
    with m.set_grad_enabled(False):
        assert not m.is_grad_enabled()
        with m.set_grad_enabled(True):
            assert m.is_grad_enabled()
        assert not m.is_grad_enabled()
    assert m.is_grad_enabled()


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_set_grad_enabled_as_function(m) -> None:
    m.set_grad_enabled(False)
    try:
        assert not m.is_grad_enabled()
        assert not (m.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        m.set_grad_enabled(True)
    assert m.is_grad_enabled()


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_decorators(m) -> None:
    @m.no_grad()
    def a():
        return m.is_grad_enabled()

    @m.no_grad
    def b():
        return m.is_grad_enabled()

    @m.enable_grad()
    def c():
        return m.is_grad_enabled()

    @m.enable_grad
    def c2():
        return m.is_grad_enabled()

    @m.inference_mode()
    def d():
        return m.is_grad_enabled()

    @m.inference_mode
    def d2():
        return m.is_grad_enabled()

    @m.set_grad_enabled(False)
    def e(value):
        return m.is_grad_enabled(), value

    assert m.is_grad_enabled()  # building the set_grad_enabled decorator left the mode alone
    assert a() is False and b() is False and d() is False and d2() is False
    assert e(3) == (False, 3)
    assert c() is True and c2() is True
    with m.no_grad():
        assert c() is True and c2() is True
        assert not m.is_grad_enabled()
    assert a.__name__ == "a" and e.__name__ == "e"


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_decorated_generator(m) -> None:
    @m.no_grad()
    def gen():
        for i in range(3):
            received = yield (i, m.is_grad_enabled())
            assert received in (None, "hello")
        return "done"

    it = gen()
    assert next(it) == (0, False)
    assert m.is_grad_enabled()  # the mode applies only while the generator runs
    assert it.send("hello") == (1, False)
    assert next(it) == (2, False)
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"

    @m.enable_grad()
    def gen2():
        yield m.is_grad_enabled()

    with m.no_grad():
        assert list(gen2()) == [True]


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_generator_exceptions_are_forwarded(m) -> None:
    @m.no_grad()
    def gen():
        try:
            yield 1
        except ValueError:
            yield m.is_grad_enabled()

    it = gen()
    next(it)
    assert it.throw(ValueError("x")) is False
    it.close()


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_mode_restored_after_exception(m) -> None:
    with pytest.raises(KeyError):
        with m.no_grad():
            raise KeyError

    @m.no_grad()
    def boom():
        raise KeyError

    with pytest.raises(KeyError):
        boom()
    assert m.is_grad_enabled()
    with pytest.raises(KeyError):
        with m.set_grad_enabled(False):
            raise KeyError
    assert m.is_grad_enabled()


@pytest.mark.parametrize("m", MODULES, ids=["pdl", "torch"])
def test_reused_context_object(m) -> None:
    ctx = m.no_grad()
    for _ in range(2):
        with ctx:
            assert not m.is_grad_enabled()
        assert m.is_grad_enabled()
    cloned = ctx.clone()
    with cloned:
        assert not m.is_grad_enabled()


def test_grad_mode_is_thread_local() -> None:
    entered = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with pdl.no_grad():
            seen["worker"] = pdl.is_grad_enabled()
            entered.set()
            release.wait(5)

    def other():
        entered.wait(5)
        seen["other_thread"] = pdl.is_grad_enabled()
        x = pdl.ones(2, requires_grad=True)
        seen["records"] = (x * 2).requires_grad

    t1 = threading.Thread(target=worker)
    t2 = threading.Thread(target=other)
    t1.start()
    t2.start()
    t2.join(5)
    entered.wait(5)
    seen["main"] = pdl.is_grad_enabled()
    release.set()
    t1.join(5)
    assert seen == {"worker": False, "other_thread": True, "records": True, "main": True}


def test_new_thread_starts_with_grad_enabled() -> None:
    result = []
    with pdl.no_grad():
        t = threading.Thread(target=lambda: result.append(pdl.is_grad_enabled()))
        t.start()
        t.join(5)
    assert result == [True]


def test_backward_inside_no_grad_still_works() -> None:
    for m in MODULES:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        with m.no_grad():
            y.backward(m.ones(2))
        assert x.grad.tolist() == [2.0, 4.0]


def test_create_graph_inside_no_grad() -> None:
    # torch records the double-backward graph even when called inside no_grad
    results = []
    for m in MODULES:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x * x
        with m.no_grad():
            (g,) = m.autograd.grad(y, x, m.ones(2), create_graph=True)
        results.append(g.requires_grad)
    assert results[0] == results[1]

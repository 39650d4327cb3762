"""Grad modes: no_grad, enable_grad, inference_mode, set_grad_enabled (thread-local, like PyTorch)."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any


class _GradState(threading.local):
    enabled = True


state = _GradState()


def is_grad_enabled() -> bool:
    return state.enabled


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a decorator."""

    _target: bool

    def __enter__(self) -> None:
        self._previous = state.enabled
        state.enabled = self._target

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self._previous

    def __call__(self, fn: Callable) -> Callable:
        target = self._target
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, target)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = state.enabled
            state.enabled = target
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = previous

        return wrapper

    def clone(self) -> _GradModeContext:
        return type(self)()


def _wrap_generator(fn: Callable, target: bool) -> Callable:
    """A decorated generator function runs each of its steps under the grad mode (as in torch)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        request = None
        throw: BaseException | None = None
        while True:
            previous = state.enabled
            state.enabled = target
            try:
                response = gen.send(request) if throw is None else gen.throw(throw)
            except StopIteration as stop:
                return stop.value
            finally:
                state.enabled = previous
            throw = None
            try:
                request = yield response
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as err:  # thrown into us: pass it on to the wrapped generator
                throw = err

    return wrapper


class _NoParamDecorator(_GradModeContext):
    """``@no_grad`` works without parentheses too, like in torch."""

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecorator):  # noqa: N801 - torch name
    """Run without recording a graph: results never require grad."""

    _target = False


class enable_grad(_NoParamDecorator):  # noqa: N801
    """Record the graph again inside a ``no_grad`` block."""

    _target = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (this framework has no separate inference tensors)."""

    def __new__(cls, mode: Any = True) -> Any:
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used as @inference_mode without parentheses

    def __init__(self, mode: Any = True) -> None:
        self._target = not mode

    def clone(self) -> inference_mode:
        return inference_mode(not self._target)


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Turn grad mode on or off: as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self._previous = state.enabled
        self._target = bool(mode)
        state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        state.enabled = self._previous  # used as a decorator: undo the switch made in __init__
        return super().__call__(fn)

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self._target)

"""Grad modes: no_grad, enable_grad, inference_mode, set_grad_enabled (thread-local, like PyTorch)."""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable


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


class no_grad(_GradModeContext):  # noqa: N801 - torch name
    """Run without recording a graph: results never require grad."""

    _target = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Record the graph again inside a ``no_grad`` block."""

    _target = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (this framework has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
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

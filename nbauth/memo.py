"""Memoizing small pure functions of hashable arguments (scope lists asked on every cache hit)."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def memoized(function: F, maxsize: int = 1024) -> F:
    """``function`` with its last ``maxsize`` results kept (LRU).

    Arguments that cannot be hashed (e.g. a list inside a tuple of scopes) are computed each
    time instead, so ``function`` still judges them (and raises its own error for them).
    Results are shared between callers: return immutable values.
    """
    cached = functools.lru_cache(maxsize=maxsize)(function)

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        try:
            return cached(*args)
        except TypeError:  # unhashable; a TypeError of the function itself is raised again below
            return function(*args)
    return call  # type: ignore[return-value]

"""In a forked child, reset what a thread of the parent may have held at the fork.

Only the forking thread lives on in the child: a thread lock another thread held then stays
locked there forever, and work in flight in the parent never finishes there. Objects that hold
such state register a reset here; it runs in every child of ``os.fork`` (multiprocessing's
"fork" included) while they live. A child that execs starts afresh and needs none.
"""
from __future__ import annotations

import os
import weakref
from typing import Any, Callable, TypeVar

T = TypeVar("T")
_resets: "weakref.WeakKeyDictionary[Any, Callable[[Any], None]]" = weakref.WeakKeyDictionary()


def reset_in_child(owner: T, reset: Callable[[T], None]) -> None:
    """Have ``reset(owner)`` run in each child forked while ``owner`` lives (``reset`` must not
    refer to ``owner`` itself, or it never dies: pass an unbound method)."""
    _resets[owner] = reset


def _after_fork_in_child() -> None:
    for owner, reset in list(_resets.items()):
        reset(owner)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)

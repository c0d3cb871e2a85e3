"""Surviving ``os.fork()``: the one place that hears of it.

After a fork only the forking thread exists in the child. Everything the
bridge keeps per process (pooled threads, the process-wide executor, loops of
calls in flight) belongs to the parent and must be forgotten. Modules register
what to forget with :func:`after_fork_in_child`; objects that must notice the
fork lazily (a worker held by someone when the fork happened) compare
:func:`generation` with the one they were created in.
"""

from __future__ import annotations

import os
from collections.abc import Callable

# Bumped in each forked child.
_generation = 0
_forget_in_child: list[Callable[[], None]] = []


def generation() -> int:
    """How many forks separate this process from the first one that imported the bridge."""
    return _generation


def after_fork_in_child(forget: Callable[[], None]) -> None:
    """Call ``forget()`` in every forked child, in registration order."""
    _forget_in_child.append(forget)


def _in_child() -> None:
    global _generation  # noqa: PLW0603 - one process-wide counter
    _generation += 1
    for forget in _forget_in_child:
        forget()


if hasattr(os, "register_at_fork"):  # not on Windows, where nothing forks
    os.register_at_fork(after_in_child=_in_child)

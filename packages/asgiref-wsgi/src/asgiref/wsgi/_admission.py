"""How many requests run their WSGI application at once.

The threads themselves are ``asgiref.sync``'s: each admitted request runs in a
``ThreadSensitiveContext`` of its own, which borrows one of the bridge's pooled lanes.
This module only bounds how many such lanes an adapter holds at a time, so a burst of
slow requests cannot start threads without limit.
"""

from __future__ import annotations

import asyncio
import weakref
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from contextlib import AbstractAsyncContextManager
from typing import Final

# WSGI applications block on databases and other I/O, so the bound is sized for waiting
# requests rather than for CPU cores; a request beyond it waits for a slot on the loop.
DEFAULT_MAX_WORKERS: Final[int] = 32


class ConcurrencyLimit:
    """At most ``limit`` requests inside at once, counted per event loop (or trio run).

    An ``asyncio.Semaphore`` belongs to one loop, and an adapter may serve several
    (one per test, one per ``asyncio.run``), so each loop gets a semaphore of its own.
    """

    def __init__(self, limit: int) -> None:
        if type(limit) is not int or limit < 1:
            raise ValueError(f"max_workers must be a positive int, got {limit!r}")
        self.limit = limit
        self._semaphores: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Semaphore
        ] = weakref.WeakKeyDictionary()

    def semaphore(self) -> AbstractAsyncContextManager[object]:
        """The semaphore of the running loop (only its own thread ever asks for it)."""
        loop = _get_running_loop()
        if loop is None:
            # A trio run: a trio.Semaphore of this limit's, for that run.
            from . import _trio_support  # imported by trio users only

            return _trio_support.semaphore(id(self), self.limit)
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore


_shared_limit = ConcurrencyLimit(DEFAULT_MAX_WORKERS)


def shared_limit() -> ConcurrencyLimit:
    """The limit shared by adapters that were not given a ``max_workers`` of their own."""
    return _shared_limit

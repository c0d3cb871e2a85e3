"""How many requests run their WSGI application at once.

The threads themselves are ``asgiref.sync``'s: each admitted request runs in a
``ThreadSensitiveContext`` of its own, which borrows one of the bridge's pooled lanes.
This module only bounds how many such lanes an adapter holds at a time, so a burst of
slow requests cannot start threads without limit.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Final

# WSGI applications block on databases and other I/O, so the bound is sized for waiting
# requests rather than for CPU cores; a request beyond it waits for a slot on the loop.
DEFAULT_MAX_WORKERS: Final[int] = 32


class ConcurrencyLimit:
    """At most ``limit`` requests inside at once, counted per event loop.

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

    def semaphore(self) -> asyncio.Semaphore:
        """The semaphore of the running loop (only its own thread ever asks for it)."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore


_shared_limit = ConcurrencyLimit(DEFAULT_MAX_WORKERS)


def shared_limit() -> ConcurrencyLimit:
    """The limit shared by adapters that were not given a ``max_workers`` of their own."""
    return _shared_limit

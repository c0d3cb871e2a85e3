"""Resolving event-loop futures from WSGI threads, many per wake-up of the loop.

``loop.call_soon_threadsafe`` writes to the loop's self-pipe on every call. Under load many
requests finish at nearly the same moment; a ``LoopWaker`` collects the futures their
threads resolve and wakes the loop once for all those that arrive before it runs.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaker] = (
    weakref.WeakKeyDictionary()
)
_wakers_lock = threading.Lock()


class LoopWaker:
    """Resolves futures of one event loop from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weak: the registry's values must not keep its keys (the loops) alive.
        self._loop = weakref.ref(loop)
        self._lock = threading.Lock()
        self._pending: list[asyncio.Future[None]] = []

    def resolve(self, future: asyncio.Future[None]) -> None:
        """Set ``future``'s result to None on its loop, soon; callable from any thread."""
        with self._lock:
            self._pending.append(future)
            if len(self._pending) > 1:
                return  # a wake-up is already on its way and will take this one too
        loop = self._loop()
        try:
            if loop is None:
                raise RuntimeError("the event loop is gone")
            loop.call_soon_threadsafe(self._resolve_pending)
        except RuntimeError:
            # The loop is closed: whoever awaited these futures is gone with it.
            with self._lock:
                self._pending.clear()

    def _resolve_pending(self) -> None:
        with self._lock:
            pending = self._pending
            self._pending = []
        for future in pending:
            if not future.done():
                future.set_result(None)


def waker_for(loop: asyncio.AbstractEventLoop) -> LoopWaker:
    """The ``LoopWaker`` of ``loop``, made on first use and dropped with the loop."""
    waker = _wakers.get(loop)
    if waker is None:
        with _wakers_lock:
            waker = _wakers.get(loop)
            if waker is None:
                waker = _wakers[loop] = LoopWaker(loop)
    return waker

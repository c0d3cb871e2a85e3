"""The communicator's output queue: an asyncio.Queue that tells waiting receivers of puts."""

from __future__ import annotations

import asyncio
import math
from typing import Any

__all__ = ["OutputQueue"]


class OutputQueue(asyncio.Queue[Any]):
    """An unbounded ``asyncio.Queue`` that wakes its receivers on every put.

    A receiver waits on a future of its own rather than inside ``get()``.  It then
    takes a message off the queue only when it returns it, so a cancelled caller loses
    nothing; and it times out by having that future resolved, with no task of its own
    and without cancelling its caller (whose ``cancelling()`` count is never touched).

    Deadlines share one timer, the "alarm", set for the earliest of them.  Tests wait
    many times a second with the same timeout, so each new deadline is later than the
    alarm already set, and most waits arm no timer at all.
    """

    def __init__(self) -> None:
        super().__init__()
        # Waiting receivers and their deadlines (loop time; inf: none), in arrival order.
        self._receivers: dict[asyncio.Future[bool], float] = {}
        self._alarm: asyncio.TimerHandle | None = None

    def next_put(self, deadline: float | None) -> asyncio.Future[bool]:
        """A future resolved at the next put or :meth:`wake_receivers` (False) or at
        ``deadline`` (True), whichever comes first; pass it to :meth:`forget` after.

        ``deadline`` is in event-loop time; None waits without limit.  A plain future,
        not a coroutine: this wait is the hot path of a test waiting for a reply.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        if deadline is None:
            self._receivers[waiter] = math.inf
        else:
            self._receivers[waiter] = deadline
            if self._alarm is None or self._alarm.when() > deadline:
                self._set_alarm(loop, deadline)
        return waiter

    def forget(self, waiter: asyncio.Future[bool]) -> None:
        """Stop tracking ``waiter`` (still tracked if its caller was cancelled).

        An alarm that outlives every waiter rings once for nobody and is not set again.
        """
        self._receivers.pop(waiter, None)

    def wake_receivers(self, _: object = None) -> None:
        """Resolve every pending :meth:`next_put` future (also usable as a done-callback)."""
        receivers, self._receivers = self._receivers, {}
        for waiter in receivers:
            if not waiter.done():
                waiter.set_result(False)

    def _set_alarm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
        self._alarm = loop.call_at(when, self._ring, loop, when)

    def _ring(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        self._alarm = None
        earliest = math.inf
        for waiter, deadline in list(self._receivers.items()):
            # ``when``, not loop.time(): asyncio may run a timer up to one clock
            # resolution early.
            if deadline <= when:
                del self._receivers[waiter]
                if not waiter.done():
                    waiter.set_result(True)
            else:
                earliest = min(earliest, deadline)
        if earliest < math.inf:
            self._set_alarm(loop, earliest)

    def _put(self, item: Any) -> None:
        # The hook asyncio.Queue provides for subclasses (LifoQueue and PriorityQueue
        # override it too); every put, put_nowait included, comes through here.
        super()._put(item)
        if self._receivers:
            self.wake_receivers()

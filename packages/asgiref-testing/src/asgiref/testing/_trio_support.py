"""What ApplicationCommunicator uses in place of asyncio when it runs in a trio run.

Imported only once a communicator is first used where no asyncio loop runs but
a trio run does, so asyncio users never import trio. The communicator's logic
is shared; only these primitives differ: the application's task (a trio system
task, since the communicator owns no nursery), its two queues, and waiting.

The queues subclass the asyncio ones, so ``input_queue`` and ``output_queue``
keep their documented types and ``get_nowait``/``put_nowait``/``empty`` work as
before; only waiting in ``get()`` is trio's. ``future`` is a :class:`TrioTask`:
the part of ``asyncio.Task`` the communicator and its users rely on.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ._output import OutputQueue

__all__ = [
    "TrioInputQueue",
    "TrioOutputQueue",
    "TrioTask",
    "checkpoint",
    "current_time",
    "in_trio_run",
    "sleep",
]

# What the communicator calls where it would call asyncio's equivalents.
checkpoint = trio.lowlevel.checkpoint
current_time = trio.current_time
sleep = trio.sleep


def in_trio_run() -> bool:
    """True in a trio run (the communicator asks only once asyncio has said "no loop")."""
    return trio.lowlevel.in_trio_run()


class TrioTask:
    """The application's task in a trio run, with the ``asyncio.Task`` methods tests use.

    A cancelled application reports as ``asyncio.Task`` does: ``cancelled()`` is
    True and ``result()`` raises ``asyncio.CancelledError``, so the same test code
    works on both backends (trio's ``Cancelled`` cannot be raised outside its scope).
    """

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self._scope = trio.CancelScope()
        self._finished = trio.Event()
        self._cancelled = False
        self._error: BaseException | None = None
        self._result: Any = None
        self._callbacks: list[Callable[[TrioTask], object]] = []
        # No context of the caller's, as on asyncio (where the task starts in an empty one).
        trio.lowlevel.spawn_system_task(
            self._run,
            awaitable,
            name="asgiref ApplicationCommunicator",
            context=contextvars.Context(),
        )

    async def _run(self, awaitable: Awaitable[Any]) -> None:
        try:
            with self._scope:
                self._result = await awaitable
            self._cancelled = self._scope.cancelled_caught
        except trio.Cancelled:
            self._cancelled = True  # the run itself is ending
        except BaseException as exc:  # noqa: BLE001 - kept for result(); a system task must not raise
            self._error = exc
        self._finished.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def done(self) -> bool:
        return self._finished.is_set()

    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self, msg: object = None) -> bool:
        if self.done():
            return False
        self._scope.cancel()
        return True

    def result(self) -> Any:
        if not self.done():
            raise asyncio.InvalidStateError("Result is not set.")
        if self._cancelled:
            raise asyncio.CancelledError
        if self._error is not None:
            raise self._error
        return self._result

    def exception(self) -> BaseException | None:
        if not self.done():
            raise asyncio.InvalidStateError("Exception is not set.")
        if self._cancelled:
            raise asyncio.CancelledError
        return self._error

    def add_done_callback(self, callback: Callable[[TrioTask], object]) -> None:
        if self.done():
            callback(self)
        else:
            self._callbacks.append(callback)

    async def wait(self, *, patience: float | None = None) -> None:
        """Wait up to ``patience`` seconds (None: no limit) for the end; cancel nothing."""
        with trio.move_on_after(math.inf if patience is None else patience):
            await self._finished.wait()


class TrioInputQueue(asyncio.Queue[Any]):
    """An unbounded ``asyncio.Queue`` whose ``get()`` waits in a trio run."""

    def __init__(self) -> None:
        super().__init__()
        self._lot = trio.lowlevel.ParkingLot()

    async def get(self) -> Any:
        while self.empty():
            await self._lot.park()
        return self.get_nowait()

    def _put(self, item: Any) -> None:
        super()._put(item)
        self._lot.unpark()


class TrioOutputQueue(OutputQueue):
    """The communicator's output queue in a trio run: receivers park until a put."""

    def __init__(self) -> None:
        super().__init__()
        self._lot = trio.lowlevel.ParkingLot()

    async def get(self) -> Any:
        while self.empty():
            await self._lot.park()
        return self.get_nowait()

    async def wait_for_put(self, deadline: float | None) -> bool:
        """Wait for a put meant for this receiver or :meth:`wake_receivers` (False) or
        ``deadline`` (True).

        ``deadline`` is in trio's clock (``trio.current_time()``); None waits without limit.
        """
        with trio.move_on_at(math.inf if deadline is None else deadline) as scope:
            await self._lot.park()
        return scope.cancelled_caught

    def wake_receivers(self, _: object = None) -> None:
        self._lot.unpark_all()

    def _put(self, item: Any) -> None:
        # asyncio.Queue's own hook: OutputQueue's wakes asyncio receivers, of which there are none.
        super(OutputQueue, self)._put(item)
        # One message, one receiver: the longest parked, so receivers are served in the
        # order they came, as on asyncio. Waking them all would let trio's scheduler,
        # which runs a batch of woken tasks in either order, pick any of them. A woken
        # task resumes without a checkpoint before it takes the message, so no wake-up is
        # lost to a cancellation or a deadline (a task they abort is no longer parked).
        self._lot.unpark()

"""What the adapter uses in place of asyncio when the server runs it in a trio run.

Imported only once a request arrives where no asyncio loop runs but a trio run
does (hypercorn's trio worker, for one), so asyncio users never import trio.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

import trio

_T = TypeVar("_T")

checkpoint = trio.lowlevel.checkpoint

_semaphores: weakref.WeakKeyDictionary[trio.lowlevel.TrioToken, dict[int, trio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def semaphore(limit_id: int, limit: int) -> trio.Semaphore:
    """The semaphore of one ConcurrencyLimit in the current trio run."""
    per_limit = _semaphores.setdefault(trio.lowlevel.current_trio_token(), {})
    found = per_limit.get(limit_id)
    if found is None:
        found = per_limit[limit_id] = trio.Semaphore(limit)
    return found


class TrioServerTask(Generic[_T]):
    """A coroutine run as a task of the trio run, in a given context: awaitable, cancellable.

    The adapter's server-side hops and its disconnect watch are tasks of no
    nursery of the request's (the WSGI thread starts them), so they are system
    tasks, each in a cancel scope of its own. Every outcome is kept for the
    awaiting side: a system task must not raise.
    """

    def __init__(self, coroutine: Coroutine[Any, Any, _T], context: contextvars.Context) -> None:
        self._scope = trio.CancelScope()
        self._finished = trio.Event()
        self._error: BaseException | None = None
        self._result: _T | None = None
        trio.lowlevel.spawn_system_task(
            self._run, coroutine, name="asgiref WsgiToAsgi", context=context.copy()
        )

    async def _run(self, coroutine: Coroutine[Any, Any, _T]) -> None:
        try:
            with self._scope:
                self._result = await coroutine
        except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits this task
            self._error = exc
        if self._scope.cancelled_caught and self._error is None:
            # Cancelled by the adapter (a cancelled request, or the disconnect watch's
            # end): the awaiting hop sees what awaiting a cancelled asyncio.Task raises,
            # and the WSGI thread waiting on that hop takes it as the request's end.
            self._error = asyncio.CancelledError()
        self._finished.set()

    def cancel(self) -> bool:
        if self._finished.is_set():
            return False
        self._scope.cancel()
        return True

    async def _outcome(self) -> _T:
        try:
            await self._finished.wait()
        except trio.Cancelled:
            # As for an awaited asyncio.Task: cancelling the awaiter cancels the task.
            self.cancel()
            raise
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]  # set when no error was

    def __await__(self) -> Generator[Any, None, _T]:
        return self._outcome().__await__()

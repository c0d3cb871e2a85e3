"""The trio half of the bridge: waiting in a trio run, and coming back into it.

``SyncToAsync`` imports this module the first time it is awaited where no
asyncio loop runs but a trio run does, so ``import asgiref.sync`` never imports
trio. Which thread runs a call, and what travels with it, is decided in
``_bridge`` exactly as under asyncio; this module only supplies the three trio
mechanics: wait for a worker without blocking the run, give up promptly on
cancellation, and let the worker thread schedule coroutines back into the run.

Cancellation follows ``trio.to_thread.run_sync(..., abandon_on_cancel=True)``:
the awaiting task gets ``trio.Cancelled`` at once, a call not yet started is
dropped, and a call already running finishes in its thread, unobserved. A sync
function cannot be interrupted, and trio does not let a cancelled task wait.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import math
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

import trio


class TrioPortal:
    """Stands in for the event loop in ``SyncToAsync.threadlocal.main_event_loop``.

    A worker thread records the loop that awaits it, so that an
    ``async_to_sync`` made there runs its coroutine on that loop while the
    thread serves the thread-sensitive work sent back to it. When the awaiting
    side is a trio run, this object answers the few loop methods that path
    uses, and runs the coroutine as a system task of the run.
    """

    __slots__ = ("token",)

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self.token = token

    @classmethod
    def current(cls) -> TrioPortal:
        """The portal into the trio run of the calling thread."""
        return cls(trio.lowlevel.current_trio_token())

    def is_running(self) -> bool:
        # A finished run is found out when call_soon_threadsafe is refused.
        return True

    def is_closed(self) -> bool:
        return False

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` in the trio run soon, in a copy of the caller's context."""
        # As asyncio does: the callback (and a task it starts) sees the caller's context.
        context = contextvars.copy_context()
        try:
            self.token.run_sync_soon(functools.partial(context.run, callback, *args))
        except trio.RunFinishedError:
            # What asyncio raises for a closed loop: the caller uses a loop of its own.
            raise RuntimeError("The trio run awaiting this thread has finished") from None

    def create_task(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` (an ``AsyncToSync.main_wrap``) as a system task of the run.

        A system task needs no nursery, as the coroutine belongs to no task of
        the run; ``main_wrap`` catches every exception, which a system task must.
        """
        try:
            trio.lowlevel.spawn_system_task(
                _drive, coroutine, name="asgiref async_to_sync", context=contextvars.copy_context()
            )
        except RuntimeError:
            # The run is shutting down and takes no new task.
            _run_on_a_loop_of_its_own(coroutine)


def _run_on_a_loop_of_its_own(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` on an asyncio loop in a thread of its own.

    For an ``async_to_sync`` call that reaches a trio run too late: the calling
    thread is waiting for the coroutine, so it runs as it would had the run
    already finished (the portal's ``call_soon_threadsafe`` refused, and the
    call got a loop of its own).
    """
    threading.Thread(
        target=asyncio.run, args=(coroutine,), name="asgiref-trio-late-call", daemon=True
    ).start()


async def _drive(coroutine: Coroutine[Any, Any, None]) -> None:
    if trio.current_effective_deadline() == -math.inf:
        # Born cancelled: trio cancels system tasks only when the run shuts down
        # (its main task has returned). Started here, the coroutine would only see
        # trio.Cancelled; it has not run yet, so it can still go elsewhere.
        _run_on_a_loop_of_its_own(coroutine)
        return
    await coroutine


def _wake(token: trio.lowlevel.TrioToken, done: trio.Event, _work: object) -> None:
    # Runs in the thread that finished the work (or here, if it already had).
    try:
        token.run_sync_soon(done.set)
    except trio.RunFinishedError:
        return  # nobody is waiting any more


async def wait_for(work: Future[Any]) -> None:
    """Wait in the trio run until ``work`` is done; on cancellation drop or abandon it."""
    if work.done():
        await trio.lowlevel.checkpoint()
        return
    done = trio.Event()
    work.add_done_callback(functools.partial(_wake, trio.lowlevel.current_trio_token(), done))
    try:
        await done.wait()
    except trio.Cancelled:
        work.cancel()  # drops it if it has not started; a running call goes on
        raise


async def wait_shielded(work: Future[Any]) -> None:
    """Wait for ``work`` even if the waiting task is cancelled meanwhile."""
    with trio.CancelScope(shield=True):
        await wait_for(work)


async def run_in_worker_thread(func: Callable[[], object]) -> None:
    """Run ``func`` in one of trio's worker threads: the trio run's default executor."""
    await trio.to_thread.run_sync(func, abandon_on_cancel=True)

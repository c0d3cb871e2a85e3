"""ThreadSensitiveContext and AsyncSingleThreadContext: which thread a block's calls share."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from concurrent.futures import Executor, Future
from types import TracebackType
from typing import TYPE_CHECKING

from ._loop_runner import loop_threads
from ._state import (
    async_single_thread_context,
    async_single_thread_runners,
    bridge_executors,
    context_to_thread_executor,
    thread_sensitive_context,
    tsc_lanes,
)
from ._workers import Worker

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..current_thread_executor import CurrentThreadExecutor


class ThreadSensitiveContext:
    """Async context manager giving the thread-sensitive calls inside it their own thread.

    Without ``executor``, the calls share one dedicated thread for the life of
    the outermost such block (nested blocks reuse it). With ``executor``, they
    run on that executor, even inside another context or an ``async_to_sync``
    bridge; the executor is neither shut down nor waited for on exit.
    """

    def __init__(self, *, executor: Executor | None = None) -> None:
        self.token: contextvars.Token[ThreadSensitiveContext] | None = None
        self._executor = executor
        self._old_executor: CurrentThreadExecutor | None = None
        self._exited = False
        # Lanes handed to this context; given back when it exits.
        self._lanes: list[Worker] = []

    async def __aenter__(self) -> Self:
        if self._executor is not None:
            if self.token is not None:
                raise RuntimeError("ThreadSensitiveContext is already entered")
            if self._exited:
                raise RuntimeError(
                    "ThreadSensitiveContext with an executor cannot be entered again"
                )
            self.token = thread_sensitive_context.set(self)
            context_to_thread_executor[self] = self._executor
            self._old_executor = getattr(bridge_executors, "current", None)
            # Calls inside run on the executor, not on an enclosing bridge's thread.
            bridge_executors.current = None
        elif thread_sensitive_context.get(None) is None:
            self.token = thread_sensitive_context.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.token is None:
            return
        thread_sensitive_context.reset(self.token)
        # A plain context may be entered again, as if it were a fresh one.
        self.token = None
        context_to_thread_executor.pop(self, None)
        if self._executor is not None:
            self._exited = True
            bridge_executors.current = self._old_executor
            return
        lanes, self._lanes = self._lanes, []
        for lane in lanes:
            if lane.is_idle():
                # The usual case: no work left, so no round trip to the lane's thread.
                tsc_lanes.checkin(lane)
                continue
            # Queued work finishes first, then the lane goes back to the pool. The
            # loop keeps running meanwhile (that work may be waiting on it), and if
            # this task is cancelled the hand-back still happens.
            if _get_running_loop() is not None:
                await asyncio.shield(asyncio.wrap_future(_give_back(lane)))
            else:
                from . import _trio_bridge  # imported by trio users only

                await _trio_bridge.wait_shielded(_give_back(lane))

    def _executor_for_call(self) -> Executor:
        """The executor for a thread-sensitive call made inside this context."""
        if self._executor is not None and self._exited:
            raise RuntimeError(
                "ThreadSensitiveContext has exited. Tasks created inside a context with an "
                "executor must finish before it exits."
            )
        executor = context_to_thread_executor.get(self)
        if executor is None:
            if self.token is None:
                # A task outlived its context. As published, it gets a new thread
                # (never the context's own); unless the context is entered again,
                # nobody will exit it, so the lane goes back when the object is gone.
                lane = tsc_lanes.start_new()
                weakref.finalize(self, _give_back, lane)
            else:
                lane = tsc_lanes.checkout()
                self._lanes.append(lane)
            context_to_thread_executor[self] = lane
            executor = lane
        return executor


def _give_back(lane: Worker) -> Future[None]:
    return lane.submit(tsc_lanes.checkin, lane)


class AsyncSingleThreadContext:
    """Sync context manager making every new-loop ``async_to_sync`` call inside it share a thread.

    Calls that would each get their own event loop run, one at a time, on one
    thread and one loop kept for the outermost active block.
    """

    def __init__(self) -> None:
        self.token: contextvars.Token[AsyncSingleThreadContext] | None = None
        self._entries: list[contextvars.Token[AsyncSingleThreadContext] | None] = []

    def __enter__(self) -> Self:
        token = None
        if async_single_thread_context.get(None) is None:
            token = async_single_thread_context.set(self)
            self.token = token
        self._entries.append(token)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        token = self._entries.pop() if self._entries else None
        if token is None:
            return
        worker = async_single_thread_runners.pop(self, None)
        if worker is not None:
            # Wait for calls still queued on the thread, then return it to the pool.
            worker.submit(loop_threads.checkin, worker).result()
        async_single_thread_context.reset(token)


_runner_lock = threading.Lock()


def loop_thread_for(context: AsyncSingleThreadContext) -> Worker:
    """The loop thread shared by the calls made inside ``context``."""
    with _runner_lock:
        worker = async_single_thread_runners.get(context)
        if worker is None:
            worker = loop_threads.checkout()
            async_single_thread_runners[context] = worker
        return worker

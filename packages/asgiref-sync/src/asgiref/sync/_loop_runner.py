"""``asyncio.run`` semantics on long-lived event loops.

Starting a thread and an event loop for every ``async_to_sync`` call made
outside any loop costs far more than the call itself. A :class:`LoopRunner` is a
pooled worker thread that owns one event loop and runs one call at a time on
it. Whoever holds the runner owns the loop exclusively, so every task and
async generator on the loop during a call belongs to that call, and the end of
a call can do what ``asyncio.run`` does at the end of its loop's life: cancel
and await the leftover tasks, close the async generators, and wait for work
sent to the loop's default executor. The loop itself stays open for the next
call; it is closed when the runner retires.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import Context
from typing import Any, ParamSpec, TypeVar

from ._workers import Worker, WorkerPool

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _CallTrackingExecutor(ThreadPoolExecutor):
    """A loop's default executor that knows which of its calls are still running."""

    def __init__(self, thread_name_prefix: str) -> None:
        super().__init__(thread_name_prefix=thread_name_prefix)
        self._running: set[Future[Any]] = set()
        self._running_lock = threading.Lock()

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        future = super().submit(fn, *args, **kwargs)
        with self._running_lock:
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._running_lock:
            self._running.discard(future)

    def running(self) -> list[Future[Any]]:
        """Calls submitted and not finished yet."""
        with self._running_lock:
            return list(self._running)


class LoopRunner(Worker):
    """A worker thread owning an event loop that runs one bridge call at a time."""

    def __init__(self, pool: WorkerPool[Any], name: str) -> None:
        self._new_loop(name)
        super().__init__(pool, name)

    def _new_loop(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._executor = _CallTrackingExecutor(thread_name_prefix=f"{name}-executor")
        self.loop.set_default_executor(self._executor)
        self._async_generators: weakref.WeakSet[Any] = weakref.WeakSet()

    def restart_after_fork(self) -> None:
        # The loop's selector and self-pipe are shared with the parent process.
        self._new_loop(self.name)
        super().restart_after_fork()

    def run(self, main: Coroutine[Any, Any, None], context: Context) -> Future[None]:
        """Run ``main`` to completion as the loop's main task, created in ``context``.

        The returned future resolves once the call's leftovers are cleaned up.
        """
        return self.submit(self._run_call, main, context)

    def _run_call(self, main: Coroutine[Any, Any, None], context: Context) -> None:
        __traceback_hide__ = True  # read by Django's debug page
        loop = self.loop
        loop.call_soon(self._track_async_generators)
        try:
            # The main task copies the current context when it is created.
            context.run(loop.run_until_complete, main)
        finally:
            if asyncio.all_tasks(loop) or self._async_generators or self._executor.running():
                loop.run_until_complete(self._clean_up())

    def _track_async_generators(self) -> None:
        # Runs inside the loop, after it installed its own hooks for this thread:
        # keep them, and also remember every async generator started in this call.
        firstiter, finalizer = sys.get_asyncgen_hooks()
        generators = self._async_generators

        def first_iteration(generator: Any) -> None:
            generators.add(generator)
            if firstiter is not None:
                firstiter(generator)

        sys.set_asyncgen_hooks(firstiter=first_iteration, finalizer=finalizer)

    async def _clean_up(self) -> None:
        """What ``asyncio.run`` does before closing its loop, limited to this call."""
        loop = asyncio.get_running_loop()
        this_task = asyncio.current_task()
        # Tasks may start other tasks while being cancelled: repeat until none is
        # left, since a survivor would otherwise resume during the next call.
        while leftovers := [task for task in asyncio.all_tasks(loop) if task is not this_task]:
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)
            for task in leftovers:
                if not task.cancelled() and task.exception() is not None:
                    loop.call_exception_handler(
                        {
                            "message": "unhandled exception during asyncio.run() shutdown",
                            "exception": task.exception(),
                            "task": task,
                        }
                    )
        generators = list(self._async_generators)
        self._async_generators.clear()
        if generators:
            results = await asyncio.gather(
                *(generator.aclose() for generator in generators), return_exceptions=True
            )
            for result, generator in zip(results, generators, strict=True):
                if isinstance(result, Exception):
                    loop.call_exception_handler(
                        {
                            "message": "an error occurred during closing of asynchronous "
                            f"generator {generator!r}",
                            "exception": result,
                            "asyncgen": generator,
                        }
                    )
        while running := self._executor.running():
            await asyncio.wait([asyncio.wrap_future(future) for future in running])

    def on_retire(self) -> None:
        self._executor.shutdown(wait=True)
        self.loop.close()


# Loops of runners, so the bridge can tell its own loops from foreign ones.
loop_runners: WorkerPool[LoopRunner] = WorkerPool(LoopRunner, "asgiref-loop")

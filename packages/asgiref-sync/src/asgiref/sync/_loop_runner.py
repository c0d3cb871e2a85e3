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
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import Context
from typing import Any, ParamSpec, TypeVar

from ._workers import Worker, WorkerPool, idle_timeout, run_work_item

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

    def any_running(self) -> bool:
        """Whether some call is still running (no lock: one read of the set's size)."""
        return bool(self._running)

    def running(self) -> list[Future[Any]]:
        """Calls submitted and not finished yet."""
        with self._running_lock:
            return list(self._running)


def _eager_task(
    main: Coroutine[Any, Any, None], loop: asyncio.AbstractEventLoop
) -> asyncio.Task[None]:
    """A task for ``main`` whose first step runs at once where Python can do that (3.12+)."""
    if sys.version_info >= (3, 12):
        return asyncio.Task(main, loop=loop, eager_start=True)
    return loop.create_task(main)


class CallDone:
    """The end of a call on a runner, as ``CurrentThreadExecutor.run_until_future`` waits for it.

    A concurrent ``Future`` does more (a condition, several waiters); this is
    one waiter and one outcome, which is all a bridge call needs.
    """

    __slots__ = ("_callback", "_failure", "_finished", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finished = False
        self._failure: BaseException | None = None
        self._callback: Callable[[CallDone], object] | None = None

    def add_done_callback(self, fn: Callable[[CallDone], object]) -> None:
        """Call ``fn(self)`` once finished (at once if it already is); one callback only."""
        with self._lock:
            if not self._finished:
                self._callback = fn
                return
        fn(self)

    def done(self) -> bool:
        return self._finished

    def result(self) -> None:
        """Raise what ended the call abnormally, if anything did."""
        if self._failure is not None:
            raise self._failure

    def finish(self, failure: BaseException | None) -> None:
        with self._lock:
            self._finished = True
            self._failure = failure
            callback = self._callback
        if callback is not None:
            callback(self)


class _Call:
    """A bridge call queued on a runner: run ``main`` in ``context``, then clean up."""

    __slots__ = ("context", "done", "main", "release")

    def __init__(self, main: Coroutine[Any, Any, None], context: Context, release: bool) -> None:
        self.main = main
        self.context = context
        self.release = release
        self.done = CallDone()


class _Function:
    """A plain callable queued on a runner, run in its thread between calls."""

    __slots__ = ("args", "fn", "future", "kwargs")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.future: Future[Any] = Future()


class LoopRunner(Worker):
    """A worker thread owning an event loop that runs one bridge call at a time.

    The loop runs for the life of the thread (``run_forever``) and calls are
    handed to it with ``call_soon_threadsafe``: starting and stopping a loop
    for every call costs more than a small call itself. Calls and queued
    callables wait their turn in ``_waiting``, so a call still owns the loop
    exclusively. Everything but ``run``, ``submit`` and ``stop`` runs in the
    loop's thread.
    """

    def __init__(self, pool: WorkerPool[Any], name: str) -> None:
        self._new_loop(name)
        super().__init__(pool, name)

    def _new_loop(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._executor = _CallTrackingExecutor(thread_name_prefix=f"{name}-executor")
        self.loop.set_default_executor(self._executor)
        self._async_generators: weakref.WeakSet[Any] = weakref.WeakSet()
        # Set when one starts: a cheaper test than the WeakSet's size after each call.
        self._generators_seen = False

    def _start(self) -> None:
        self._waiting: deque[_Call | _Function] = deque()
        self._current: _Call | None = None
        self._stopping = False
        self._idle_since = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        # The runner's own callbacks run in a context of their own (as code at the
        # top of a fresh thread would), never in a caller's.
        self._own_context = Context()
        super()._start()

    def restart_after_fork(self) -> None:
        # The loop's selector and self-pipe are shared with the parent process.
        self._new_loop(self.name)
        super().restart_after_fork()

    def run(self, main: Coroutine[Any, Any, None], context: Context, release: bool) -> CallDone:
        """Run ``main`` to completion as the loop's main task, created in ``context``.

        The returned completion comes once the call's leftovers are cleaned up;
        with ``release``, the runner is back in its pool before that.
        """
        call = _Call(main, context, release)
        self._post(call)
        return call.done

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        """Run ``fn(*args, **kwargs)`` in the loop's thread after the calls queued before it."""
        item = _Function(fn, args, kwargs)
        self._post(item)
        self._last_submitted = item.future
        return item.future

    def _post(self, item: _Call | _Function) -> None:
        if not self.started_in_this_process():
            self.restart_after_fork()
        self.loop.call_soon_threadsafe(self._arrive, item, context=self._own_context)

    def stop(self) -> None:
        """Ask the thread to end once the queued work is done."""
        self.loop.call_soon_threadsafe(self._stop_when_idle, context=self._own_context)

    def _main(self) -> None:
        self.loop.call_soon(self._track_async_generators, context=self._own_context)
        self.loop.run_forever()
        self.on_retire()

    def _arrive(self, item: _Call | _Function) -> None:
        if self._current is not None or self._waiting:
            self._waiting.append(item)
        else:
            self._begin(item)

    def _begin(self, item: _Call | _Function) -> None:
        while isinstance(item, _Function):
            run_work_item((item.future, item.fn, item.args, item.kwargs))
            if not self._waiting:
                self._now_idle()
                return
            item = self._waiting.popleft()
        self._current = item
        # The main task copies the current context when it is created. On 3.12+ its
        # first step runs right here: a call that needs no second step is over
        # without another turn of the loop.
        try:
            task = item.context.run(_eager_task, item.main, self.loop)
        except BaseException as exc:  # noqa: BLE001 - the caller must hear of it, not wait
            self._call_done(exc)
            return
        if task.done():
            self._main_done(task)
            return
        task.add_done_callback(self._main_done, context=self._own_context)

    def _main_done(self, task: asyncio.Task[None]) -> None:
        # Runs in the runner's own context (a loop callback), as the clean-up must.
        try:
            leftovers = self._leftovers()
        except BaseException as exc:  # noqa: BLE001 - the caller must hear of it, not wait
            self._call_done(exc)
            return
        if leftovers:
            clean_up = self.loop.create_task(self._clean_up())
            clean_up.add_done_callback(
                lambda clean_up: self._call_done(_failure(clean_up) or _failure(task)),
                context=self._own_context,
            )
        else:
            self._call_done(_failure(task))

    def _leftovers(self) -> bool:
        """Whether the call left tasks, async generators or executor work behind."""
        if self._generators_seen:
            if self._async_generators:
                return True
            self._generators_seen = False  # all collected already
        return bool(asyncio.all_tasks(self.loop)) or self._executor.any_running()

    def _call_done(self, failure: BaseException | None) -> None:
        call = self._current
        assert call is not None  # only called while a call runs
        self._current = None
        if call.release:
            # Back in the pool before the caller wakes up.
            self._pool.checkin(self)
        call.done.finish(failure)
        if self._waiting:
            # On a later turn: calls that end at once must not nest ever deeper.
            self.loop.call_soon(self._begin_waiting, context=self._own_context)
        else:
            self._now_idle()

    def _begin_waiting(self) -> None:
        self._begin(self._waiting.popleft())

    def _now_idle(self) -> None:
        if self._stopping:
            self.loop.stop()
            return
        self._idle_since = time.monotonic()
        # One timer at a time, re-armed when it fires early, rather than a new
        # timer armed and cancelled on every call.
        if self._idle_timer is None:
            self._idle_timer = self.loop.call_later(
                idle_timeout(), self._idle_check, context=self._own_context
            )

    def _idle_check(self) -> None:
        self._idle_timer = None
        if self._current is not None or self._waiting or self._stopping:
            return  # re-armed when this work ends
        remaining = self._idle_since + idle_timeout() - time.monotonic()
        if remaining > 0:
            self._idle_timer = self.loop.call_later(
                remaining, self._idle_check, context=self._own_context
            )
        elif self._pool.try_retire(self):
            self.loop.stop()
        # Otherwise someone holds this runner: it stays until handed back.

    def _stop_when_idle(self) -> None:
        self._stopping = True
        if self._current is None and not self._waiting:
            self.loop.stop()

    def _track_async_generators(self) -> None:
        # Runs inside the loop, after it installed its own hooks for this thread:
        # keep them, and also remember every async generator started during a call.
        firstiter, finalizer = sys.get_asyncgen_hooks()
        generators = self._async_generators

        def first_iteration(generator: Any) -> None:
            generators.add(generator)
            self._generators_seen = True
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
        self._generators_seen = False
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


def _failure(task: asyncio.Task[None]) -> BaseException | None:
    """How ``task`` failed, if it did."""
    if task.cancelled():
        return asyncio.CancelledError()
    return task.exception()


# Loops of runners, so the bridge can tell its own loops from foreign ones.
loop_runners: WorkerPool[LoopRunner] = WorkerPool(LoopRunner, "asgiref-loop")

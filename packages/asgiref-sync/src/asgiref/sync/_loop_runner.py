"""``asyncio.run`` for bridge calls, on pooled threads.

A new-loop ``async_to_sync`` call in the published asgiref is ``asyncio.run``
in a new thread. Here the call borrows an idle thread of :data:`loop_threads`
and runs there exactly as ``asyncio.run`` would: its main task on an event loop
nobody else uses, then leftover tasks cancelled, async generators closed, the
default executor shut down, and the loop closed.

Creating and closing a loop costs several system calls, more than a small call
itself, so a loop that provably carries nothing of its call is kept for the
thread's next call instead of closed: its attributes are what they were when
it was new (no timer, callback, setting, executor or async generator left) and
nothing outside holds a reference to it (no future, task, transport, handle or
user variable), so no later code can tell it from a new loop. Any other loop is
closed, and the next call gets a new one.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import Any

from ._workers import Worker, WorkerPool


class CallDone:
    """The end of a call, as ``CurrentThreadExecutor.run_until_future`` waits for it.

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


def run_call(
    worker: Worker,
    main: Coroutine[Any, Any, None],
    context: Context,
    release_to: WorkerPool | None,
) -> CallDone:
    """Run ``main`` on ``worker`` as ``asyncio.run`` would, its task created in ``context``.

    With ``release_to``, the worker goes back to that pool once the call is
    over, before its caller is told.
    """
    done = CallDone()
    worker.post(lambda: _run_call(worker, main, context, release_to, done))
    return done


def _run_call(
    worker: Worker,
    main: Coroutine[Any, Any, None],
    context: Context,
    release_to: WorkerPool | None,
    done: CallDone,
) -> None:
    try:
        failure = _loop_of_this_thread().run(main, context)
    except BaseException as exc:  # noqa: BLE001 - the caller must hear of it, not wait
        failure = exc
    if release_to is not None:
        release_to.checkin(worker)
    done.finish(failure)


class _ThreadLoop:
    """The loop a pooled thread runs its calls on, new or provably as good as new."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_shape: dict[str, object] | None = None
        self._new_references = 0

    def run(self, main: Coroutine[Any, Any, None], context: Context) -> BaseException | None:
        """Run ``main`` to completion and clean up after it; return how it failed, if it did."""
        loop = self._loop
        if loop is None:
            loop = _new_loop()
            self._remember_as_new(loop)
        self._loop = None  # held by this frame alone while the call runs
        # The main task copies the current context when it is created.
        task = context.run(loop.create_task, main)
        try:
            loop.run_until_complete(task)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            failure: BaseException | None = exc
        else:
            failure = None
        del task
        try:
            shut_down_like_asyncio_run(loop)
        finally:
            if self._as_good_as_new(loop):
                self._loop = loop
            else:
                loop.close()
        return failure

    def close(self) -> None:
        """Close the kept loop, if any (the thread is ending)."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def _remember_as_new(self, loop: asyncio.AbstractEventLoop) -> None:
        # Called from run() exactly as _as_good_as_new is, so the references
        # its frame and this one hold are counted alike.
        self._new_shape = _shape(loop)
        self._new_references = _references(loop)

    def _as_good_as_new(self, loop: asyncio.AbstractEventLoop) -> bool:
        shape = self._new_shape
        return (
            shape is not None
            and not loop.is_closed()
            and _references(loop) == self._new_references
            and _shape(loop) == shape
        )


def _new_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    # One turn first: running a loop adds attributes it keeps from then on.
    loop.run_until_complete(_nothing())
    return loop


async def _nothing() -> None:
    pass


def _references(loop: asyncio.AbstractEventLoop) -> int:
    # Called with the loop held by one caller's local variable (and this frame).
    return sys.getrefcount(loop)


def _shape(loop: asyncio.AbstractEventLoop) -> dict[str, object] | None:
    """The loop's attributes, containers by identity and size; None if it has no ``__dict__``."""
    try:
        attributes = vars(loop)
    except TypeError:
        return None  # a loop written in C (uvloop): never kept
    return {
        name: (id(value), len(value)) if _is_container(value) else value
        for name, value in attributes.items()
    }


def _is_container(value: object) -> bool:
    return hasattr(type(value), "__len__") and not isinstance(value, (str, bytes, tuple))


def shut_down_like_asyncio_run(loop: asyncio.AbstractEventLoop) -> None:
    """What ``asyncio.run`` does after its main task, skipping the steps with nothing to do."""
    if asyncio.all_tasks(loop):
        loop.run_until_complete(_cancel_leftover_tasks())
    try:
        attributes: dict[str, object] = vars(loop)
    except TypeError:
        attributes = {}
    # Absent attributes (another loop implementation) mean: do the step anyway.
    if attributes.get("_asyncgens", True):
        loop.run_until_complete(loop.shutdown_asyncgens())
    if attributes.get("_default_executor", True) is not None:
        loop.run_until_complete(loop.shutdown_default_executor())


async def _cancel_leftover_tasks() -> None:
    loop = asyncio.get_running_loop()
    this_task = asyncio.current_task()
    # Tasks may start other tasks while being cancelled: repeat until none is
    # left, since the loop may be kept for the next call.
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


_thread_loops = threading.local()


def _loop_of_this_thread() -> _ThreadLoop:
    try:
        thread_loop: _ThreadLoop = _thread_loops.loop
    except AttributeError:
        thread_loop = _thread_loops.loop = _ThreadLoop()
    return thread_loop


def _close_this_threads_loop() -> None:
    thread_loop: _ThreadLoop | None = getattr(_thread_loops, "loop", None)
    if thread_loop is not None:
        thread_loop.close()


# Threads for new-loop bridge calls, one call at a time each.
loop_threads = WorkerPool("asgiref-loop", on_retire=_close_this_threads_loop)

# At exit, idle loop threads end and close the loops they kept, as asyncio.run would
# have closed them: no "unclosed event loop" warning. Bounded: exit never hangs here.
atexit.register(loop_threads.retire_idle, 1.0)

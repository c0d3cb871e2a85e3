"""An event loop running forever in a thread of its own, shared by sync callers.

:class:`LoopThread` is for sync code that needs one long-lived event loop to
hand coroutines to from many threads: an ASGI application served by a WSGI
server, a connection pool shared by request threads. The loop runs as the one
job of a :class:`~._workers.Worker`; the thread starts on first use, and a
forked child starts a loop and thread of its own on its first use there (the
parent's thread does not exist in the child).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from . import _fork
from ._loop_runner import shut_down_like_asyncio_run
from ._workers import Worker, WorkerPool

_T = TypeVar("_T")

# Loop threads are never pooled: each LoopThread keeps its worker until closed.
# The pool only supplies the Worker machinery (named thread, fork awareness).
_loop_thread_workers = WorkerPool("asgiref-loop-thread")

# Every LoopThread, so a forked child can forget the parent's loops in one place.
_instances: weakref.WeakSet[LoopThread] = weakref.WeakSet()
# A parent's loops, kept referenced in a forked child: they still look "running"
# there and must not be collected (and warned about) or closed (their selector
# file descriptors are shared with the parent's loop).
_left_by_parent: list[asyncio.AbstractEventLoop] = []


class LoopThread:
    """An event loop that runs forever in one thread of its own, shared by sync callers.

    Nothing starts until first use (:attr:`loop`, :meth:`call_soon`,
    :meth:`submit` or :meth:`run`). Every method is safe to call from any
    thread. After ``os.fork()`` the child's first use starts a new loop and
    thread; the parent's are left alone. :meth:`close` stops the loop the way
    ``asyncio.run`` ends (leftover tasks cancelled, async generators and the
    default executor shut down, loop closed) and ends the thread; a closed
    ``LoopThread`` refuses further work.
    """

    def __init__(self, name: str = "asgiref-loop-thread") -> None:
        self._name = _checked_name(name)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: Worker | None = None
        self._closed = False
        _instances.add(self)

    def __repr__(self) -> str:
        if self._closed:
            state = "closed"
        elif self._loop is None:
            state = "not started"
        else:
            state = "running"
        return f"<LoopThread {self._name!r} {state}>"

    @property
    def name(self) -> str:
        """The loop thread's name (``threading.current_thread().name`` inside it)."""
        return self._name

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop, started (with its thread) if it is not running yet."""
        loop = self._loop
        if loop is None:
            loop = self._start()
        return loop

    def in_loop_thread(self) -> bool:
        """True when called from the loop's own thread."""
        worker = self._worker
        return (
            worker is not None
            and self._loop is not None
            and threading.current_thread() is worker.thread
        )

    def call_soon(
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> None:
        """Run ``callback(*args)`` in the loop's thread soon; do not wait for it.

        It runs in ``context`` if given, else in a copy of the caller's context
        (as ``loop.call_soon_threadsafe`` does).
        """
        self.loop.call_soon_threadsafe(callback, *args, context=context)

    def submit(
        self,
        coroutine: Coroutine[Any, Any, _T],
        *,
        context: contextvars.Context | None = None,
    ) -> concurrent.futures.Future[_T]:
        """Start ``coroutine`` as a task on the loop; return a future of its result.

        The task runs in a copy of ``context`` (default: the caller's context).
        Cancelling the returned future cancels the task.
        """
        _check_coroutine(coroutine)
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        self._schedule(coroutine, future, context)
        return future

    def run(
        self,
        coroutine: Coroutine[Any, Any, _T],
        *,
        timeout: float | None = None,
        context: contextvars.Context | None = None,
    ) -> _T:
        """Run ``coroutine`` on the loop and wait for its result (or its exception).

        With ``timeout`` (seconds), a task still running then is cancelled and
        ``TimeoutError`` raised. A caller interrupted while waiting (``KeyboardInterrupt``)
        cancels the task too. A task cancelled by someone else raises
        ``concurrent.futures.CancelledError``. Calling this from the loop's own
        thread would wait forever, so it raises ``RuntimeError``.
        """
        _check_coroutine(coroutine)
        if timeout is not None and not timeout >= 0:
            coroutine.close()
            raise ValueError(f"timeout must be None or a number >= 0, not {timeout!r}")
        if self.in_loop_thread():
            coroutine.close()
            raise RuntimeError(
                "LoopThread.run() was called from the loop's own thread, where waiting for "
                "the result would block the loop forever; await the coroutine instead"
            )
        # Made before anything is scheduled, so an interrupt at any point can cancel it.
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        try:
            self._schedule(coroutine, future, context)
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            # On Python 3.10 this is not the builtin TimeoutError; make it one.
            if future.cancel() or future.cancelled():
                raise TimeoutError(
                    f"the coroutine did not finish within {timeout} s and was cancelled"
                ) from None
            return future.result()  # finished in between
        except BaseException:
            future.cancel()
            raise

    def close(self, *, timeout: float | None = None) -> None:
        """Stop the loop as ``asyncio.run`` would end it and wait for its thread to end.

        Called from the loop's own thread, it asks the loop to stop and returns.
        ``TimeoutError`` if the thread is still ending after ``timeout`` seconds.
        """
        with self._lock:
            self._closed = True
            loop, worker = self._loop, self._worker
            self._loop = self._worker = None
        if loop is None or worker is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is worker.thread:
            return
        worker.thread.join(timeout)
        if worker.thread.is_alive():
            raise TimeoutError(f"{self._name}: the loop thread did not end within {timeout} s")

    def __enter__(self) -> LoopThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _schedule(
        self,
        coroutine: Coroutine[Any, Any, _T],
        future: concurrent.futures.Future[_T],
        context: contextvars.Context | None,
    ) -> None:
        try:
            loop = self.loop
        except BaseException:
            coroutine.close()
            raise
        # The callback runs in (a copy of) the context; the task copies it in turn.
        loop.call_soon_threadsafe(
            _start_task,
            loop,
            coroutine,
            future,
            context=None if context is None else context.copy(),
        )

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed; create a new LoopThread")
            if self._loop is not None:
                return self._loop  # another thread started it first
            loop = asyncio.new_event_loop()
            worker = Worker(_loop_thread_workers, self._name)
            worker.post(lambda: _serve_forever(loop))
            worker.stop()  # the thread ends once the loop has
            self._worker = worker
            self._loop = loop
            return loop

    def _forget_after_fork(self) -> None:
        self._lock = threading.Lock()
        if self._loop is not None:
            _left_by_parent.append(self._loop)
        self._loop = self._worker = None


def _checked_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"LoopThread name must be a non-empty str, not {name!r}")
    return name


def _check_coroutine(coroutine: object) -> None:
    if not asyncio.iscoroutine(coroutine):
        raise TypeError(
            f"LoopThread needs a coroutine object (call the async function), not {coroutine!r}"
        )


def _start_task(
    loop: asyncio.AbstractEventLoop,
    coroutine: Coroutine[Any, Any, _T],
    future: concurrent.futures.Future[_T],
) -> None:
    """In the loop's thread: run ``coroutine`` as a task whose outcome goes to ``future``."""
    if future.cancelled():
        coroutine.close()  # the caller gave up before the task existed
        return
    task = loop.create_task(coroutine)
    task.add_done_callback(lambda _: _copy_outcome(task, future))
    future.add_done_callback(
        lambda _: future.cancelled() and loop.call_soon_threadsafe(task.cancel)
    )


def _copy_outcome(task: asyncio.Task[_T], future: concurrent.futures.Future[_T]) -> None:
    try:
        if task.cancelled():
            future.cancel()
        elif (error := task.exception()) is not None:
            future.set_exception(error)
        else:
            future.set_result(task.result())
    except concurrent.futures.InvalidStateError:
        pass  # the caller cancelled it meanwhile


def _serve_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        try:
            shut_down_like_asyncio_run(loop)
        except RuntimeError:
            # Closed from an atexit hook (the main thread has ended): no thread may start
            # now, so the default executor's shutdown cannot run, and has nothing left to
            # do: concurrent.futures joined its threads before atexit hooks ran.
            if threading.main_thread().is_alive():
                raise
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _forget_parent_loops() -> None:
    for loop_thread in list(_instances):
        loop_thread._forget_after_fork()  # pyright: ignore[reportPrivateUsage] - the fork hook


_fork.after_fork_in_child(_forget_parent_loops)

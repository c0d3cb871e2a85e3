"""An executor whose work runs in the thread that created it.

``async_to_sync`` creates one per call: the calling thread parks in
``run_until_future`` and meanwhile runs the thread-sensitive work that the
coroutine sends back to it. One is created per bridge call, so it is kept to a
lock, a flag and a ``SimpleQueue``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from queue import SimpleQueue
from typing import Any, ParamSpec, Protocol, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

_WorkItem = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def run_work_item(
    future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Run one submitted call, storing its outcome (any exception) on its future.

    The one work-item runner of asgiref-sync: this executor and the bridge's
    pooled worker threads both run submitted calls through it.
    """
    __traceback_hide__ = True  # read by Django's debug page
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - stored for the submitter, any kind
        future.set_exception(exc)
    else:
        future.set_result(result)


class _Completion(Protocol):
    """What ``run_until_future`` can wait for: a concurrent ``Future`` or the like."""

    def add_done_callback(self, fn: Callable[[Any], object], /) -> None: ...


class CurrentThreadExecutor(Executor):
    """Run submitted callables in the creating thread while it waits in ``run_until_future``."""

    def __init__(self, old_executor: CurrentThreadExecutor | None = None) -> None:
        self._work_thread = threading.current_thread()
        self._old_executor = old_executor
        self._queue: SimpleQueue[_WorkItem | None] = SimpleQueue()
        # Guards the "finished" flag against a concurrent submit: once it is set
        # under the lock, nothing else is queued, so draining cannot miss an item.
        self._lock = threading.Lock()
        self._broken = False

    def _finish(self, _future: object = None) -> None:
        with self._lock:
            if self._broken:
                return
            self._broken = True
        self._queue.put(None)

    def run_until_future(self, future: Future[Any] | _Completion) -> None:
        """Run queued work in this thread until ``future`` completes, then drain the queue."""
        if threading.current_thread() is not self._work_thread:
            raise RuntimeError("You cannot run CurrentThreadExecutor from a different thread")
        if self._broken:
            self._drain()
            return
        future.add_done_callback(self._finish)
        get = self._queue.get
        while True:
            item = get()
            if item is None:
                return
            run_work_item(*item)

    def _drain(self) -> None:
        while not self._queue.empty():
            item = self._queue.get()
            if item is not None:
                run_work_item(*item)

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        """Queue ``fn`` for the creating thread; forward outward once this one has finished."""
        if threading.current_thread() is self._work_thread:
            raise RuntimeError("You cannot submit onto CurrentThreadExecutor from its own thread")
        future: Future[_R] = Future()
        executor: CurrentThreadExecutor | None = self
        while executor is not None:
            with executor._lock:
                if not executor._broken:
                    executor._queue.put((future, fn, args, kwargs))
                    return future
            executor = executor._old_executor
        raise RuntimeError("CurrentThreadExecutor already quit or is broken")

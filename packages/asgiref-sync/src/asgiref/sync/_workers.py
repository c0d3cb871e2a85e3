"""Reusable single-thread workers, pooled, that retire when idle and survive ``fork``.

A :class:`Worker` is an executor with exactly one named thread that runs
submitted callables in order. A :class:`WorkerPool` hands idle workers out for
exclusive use (``checkout``) and takes them back (``checkin``); a worker left
idle in the pool for ``idle_timeout`` seconds ends its thread. Thread-sensitive
contexts use a pool of workers as their dedicated thread ("lanes"), and
``async_to_sync`` uses a pool of workers that each own an event loop.

After ``os.fork()`` no thread of the parent exists in the child: every pool
forgets its idle workers, and a worker still held by someone starts a fresh
thread on its next ``submit``.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from queue import Empty, SimpleQueue
from typing import Any, Generic, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

_WorkItem = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]

# Marker queued to make an idle worker's thread end.
_RETIRE = None

# Seconds an idle worker waits for work before its thread ends. Module-private;
# tests lower it with set_idle_timeout() or retire workers with retire_idle_workers().
_idle_timeout = 30.0

# Bumped in a forked child: a worker created in an earlier generation has no thread.
_fork_generation = 0

_pools: list[WorkerPool[Any]] = []


def set_idle_timeout(seconds: float) -> float:
    """Set how long idle pooled workers wait before retiring; return the previous value."""
    global _idle_timeout
    previous, _idle_timeout = _idle_timeout, seconds
    return previous


def idle_timeout() -> float:
    """Seconds an idle pooled worker waits for work before its thread ends."""
    return _idle_timeout


def retire_idle_workers() -> int:
    """End the threads of every idle pooled worker now and wait for them; return how many."""
    return sum(pool.retire_idle() for pool in list(_pools))


def run_work_item(item: _WorkItem) -> None:
    """Run one submitted call, storing its outcome (any exception) on its future."""
    __traceback_hide__ = True  # read by Django's debug page
    future, fn, args, kwargs = item
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - handed to the submitter, whatever it is
        future.set_exception(exc)
    else:
        future.set_result(result)


class Worker(Executor):
    """One named thread running submitted callables in order."""

    def __init__(self, pool: WorkerPool[Any], name: str) -> None:
        self.name = name
        self._pool = pool
        self._start()

    def _start(self) -> None:
        self._generation = _fork_generation
        self._last_submitted: Future[Any] | None = None
        self._queue: SimpleQueue[_WorkItem | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def restart_after_fork(self) -> None:
        """Give this worker a new thread: the one it had stayed in the parent process."""
        self._start()

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        """Queue ``fn(*args, **kwargs)`` for this worker's thread."""
        if self._generation != _fork_generation:
            self.restart_after_fork()
        future: Future[_R] = Future()
        self._queue.put((future, fn, args, kwargs))
        self._last_submitted = future
        return future

    def is_idle(self) -> bool:
        """True when everything submitted so far has finished (items run in order)."""
        last = self._last_submitted
        return last is None or last.done()

    def started_in_this_process(self) -> bool:
        """False in a forked child until the worker has started a thread there."""
        return self._generation == _fork_generation

    @property
    def thread(self) -> threading.Thread:
        """The thread running this worker's calls."""
        return self._thread

    def _main(self) -> None:
        queue = self._queue
        pool = self._pool
        while True:
            try:
                item = queue.get(timeout=_idle_timeout)
            except Empty:
                if pool.try_retire(self):
                    break
                continue
            if item is None:  # _RETIRE
                break
            run_work_item(item)
            del item
        self.on_retire()

    def on_retire(self) -> None:
        """Release what the worker holds besides its thread (runs in that thread, last)."""

    def stop(self) -> None:
        """Ask the thread to end once the queued work is done."""
        self._queue.put(_RETIRE)


_W = TypeVar("_W", bound=Worker)


class WorkerPool(Generic[_W]):
    """Idle workers of one kind, handed out for exclusive use and taken back."""

    def __init__(self, factory: Callable[[WorkerPool[_W], str], _W], name_prefix: str) -> None:
        self._factory = factory
        self._name_prefix = name_prefix
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._idle: list[_W] = []
        _pools.append(self)

    def checkout(self) -> _W:
        """Take an idle worker (the most recently used one), or start a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._factory(self, f"{self._name_prefix}-{next(self._numbers)}")

    def checkin(self, worker: _W) -> None:
        """Give ``worker`` back; it may be handed out again or retire."""
        if not worker.started_in_this_process():
            return  # a parent-process worker: its thread does not exist here
        with self._lock:
            self._idle.append(worker)

    def try_retire(self, worker: _W) -> bool:
        """Remove ``worker`` if it is idle here; True means its thread should end."""
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
        return False

    def retire_idle(self) -> int:
        """Stop every idle worker and wait for their threads; return how many."""
        with self._lock:
            retiring, self._idle = self._idle, []
        for worker in retiring:
            worker.stop()
        for worker in retiring:
            worker.thread.join()
        return len(retiring)

    def idle_count(self) -> int:
        """How many workers wait idle in this pool."""
        with self._lock:
            return len(self._idle)

    def forget_after_fork(self) -> None:
        """In a forked child: drop the idle workers (their threads stayed in the parent)."""
        self._lock = threading.Lock()
        self._idle = []


def _after_fork_in_child() -> None:
    global _fork_generation  # noqa: PLW0603 - one process-wide counter
    _fork_generation += 1
    for pool in _pools:
        pool.forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)

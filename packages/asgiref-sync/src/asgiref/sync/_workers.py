"""Reusable single-thread workers, pooled, that retire when idle and survive ``fork``.

A :class:`Worker` is an executor with exactly one named thread that runs jobs
in order. A :class:`WorkerPool` hands idle workers out for exclusive use
(``checkout``) and takes them back (``checkin``); a worker left idle in the
pool for ``idle_timeout`` seconds ends its thread. Thread-sensitive contexts
use a pool of workers as their dedicated thread ("lanes"), and
``async_to_sync`` uses a pool of workers whose jobs run event loops.

A worker handed back is emptied of the thread-critical ``Local`` values its
last user left, so its next user sees what a new thread would show. After
``os.fork()`` every pool forgets its idle workers, and a worker still held by
someone starts a fresh thread on its next job.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from queue import Empty, SimpleQueue
from typing import Any, ParamSpec, TypeVar

from ..current_thread_executor._executor import run_work_item
from ..local._local import forget_thread_values
from . import _fork

_P = ParamSpec("_P")
_R = TypeVar("_R")

Job = Callable[[], object]

# Marker queued to make an idle worker's thread end.
_RETIRE = None

# Seconds an idle worker waits for work before its thread ends. Module-private;
# tests lower it with set_idle_timeout() or retire workers with retire_idle_workers().
_idle_timeout = 30.0

_pools: list[WorkerPool] = []


def set_idle_timeout(seconds: float) -> float:
    """Set how long idle pooled workers wait before retiring; return the previous value."""
    global _idle_timeout
    previous, _idle_timeout = _idle_timeout, seconds
    return previous


def retire_idle_workers() -> int:
    """End the threads of every idle pooled worker now and wait for them; return how many."""
    return sum(pool.retire_idle() for pool in list(_pools))


class Worker(Executor):
    """One named thread running jobs in order, borrowed from a :class:`WorkerPool`."""

    def __init__(self, pool: WorkerPool, name: str) -> None:
        self.name = name
        self._pool = pool
        self._start()

    def _start(self) -> None:
        self._generation = _fork.generation()
        self._last_submitted: Future[Any] | None = None
        self._queue: SimpleQueue[Job | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def post(self, job: Job) -> None:
        """Queue ``job()`` for this worker's thread; what it returns or raises is dropped."""
        if self._generation != _fork.generation():
            # Created before a fork: its thread stayed in the parent.
            self._start()
        self._queue.put(job)

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        """Queue ``fn(*args, **kwargs)`` for this worker's thread."""
        future: Future[_R] = Future()
        self.post(functools.partial(run_work_item, future, fn, args, kwargs))
        self._last_submitted = future
        return future

    def is_idle(self) -> bool:
        """True when everything submitted so far has finished (jobs run in order)."""
        last = self._last_submitted
        return last is None or last.done()

    def started_in_this_process(self) -> bool:
        """False in a forked child until the worker has started a thread there."""
        return self._generation == _fork.generation()

    @property
    def thread(self) -> threading.Thread:
        """The thread running this worker's jobs."""
        return self._thread

    def _main(self) -> None:
        queue = self._queue
        pool = self._pool
        while True:
            try:
                job = queue.get(timeout=_idle_timeout)
            except Empty:
                if pool.try_retire(self):
                    break
                continue
            if job is None:  # _RETIRE
                break
            job()
            del job
        pool.on_retire()

    def stop(self) -> None:
        """Ask the thread to end once the queued jobs are done."""
        self._queue.put(_RETIRE)


class WorkerPool:
    """Idle workers of one kind, handed out for exclusive use and taken back."""

    def __init__(self, name_prefix: str, on_retire: Callable[[], None] | None = None) -> None:
        self._name_prefix = name_prefix
        self._on_retire = on_retire
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        _pools.append(self)

    def checkout(self) -> Worker:
        """Take an idle worker (the most recently used one), or start a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self.start_new()

    def start_new(self) -> Worker:
        """A worker with a thread nobody has used yet; it joins the pool once checked in."""
        return Worker(self, f"{self._name_prefix}-{next(self._numbers)}")

    def checkin(self, worker: Worker) -> None:
        """Give ``worker`` back, emptied of its last user's thread-critical values."""
        if not worker.started_in_this_process():
            return  # a parent-process worker: its thread does not exist here
        if threading.current_thread() is worker.thread:
            forget_thread_values()
        else:
            # Before any job of the next user, in the worker's own thread.
            worker.post(forget_thread_values)
        with self._lock:
            self._idle.append(worker)

    def try_retire(self, worker: Worker) -> bool:
        """Remove ``worker`` if it is idle here; True means its thread should end."""
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
        return False

    def on_retire(self) -> None:
        """Runs last in a retiring worker's thread: release what the thread holds."""
        if self._on_retire is not None:
            self._on_retire()

    def retire_idle(self, timeout: float | None = None) -> int:
        """Stop every idle worker and wait for their threads (each up to ``timeout``)."""
        with self._lock:
            retiring, self._idle = self._idle, []
        for worker in retiring:
            worker.stop()
        for worker in retiring:
            worker.thread.join(timeout)
        return len(retiring)

    def idle_count(self) -> int:
        """How many workers wait idle in this pool."""
        with self._lock:
            return len(self._idle)

    def forget_after_fork(self) -> None:
        """In a forked child: drop the idle workers (their threads stayed in the parent)."""
        self._lock = threading.Lock()
        self._idle = []


def _forget_idle_workers_after_fork() -> None:
    for pool in _pools:
        pool.forget_after_fork()


_fork.after_fork_in_child(_forget_idle_workers_after_fork)

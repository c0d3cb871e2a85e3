"""The threads WSGI applications run in.

Adapters built without ``max_workers`` share one pool of ``DEFAULT_MAX_WORKERS`` threads;
an adapter given ``max_workers`` gets a pool of its own. A pool is created on the first
request, never at import, and again in a forked child: the parent's threads do not survive
a fork, and a ``ThreadPoolExecutor`` would keep counting them as idle.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

# WSGI applications block on databases and other I/O, so the pool is sized for waiting
# requests rather than for CPU cores; a request beyond it waits for a free thread.
DEFAULT_MAX_WORKERS: Final[int] = 32
THREAD_NAME_PREFIX = "asgiref-wsgi"


class LazyPool:
    """A ``ThreadPoolExecutor`` of ``max_workers`` threads, made when first needed."""

    def __init__(self, max_workers: int) -> None:
        if type(max_workers) is not int or max_workers < 1:
            raise ValueError(f"max_workers must be a positive int, got {max_workers!r}")
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        pool = self._pool
        if pool is not None and self._pid == os.getpid():
            return pool
        return self._create()

    def _create(self) -> ThreadPoolExecutor:
        pid = os.getpid()
        if self._pid != pid and self._pool is not None:
            # A forked child: the lock may have been held by a thread that no longer exists.
            self._lock = threading.Lock()
            self._pool = None
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix=THREAD_NAME_PREFIX
                )
                self._pid = pid
            return self._pool


_shared_pool = LazyPool(DEFAULT_MAX_WORKERS)


def shared_pool() -> LazyPool:
    """The pool of adapters that were not given a ``max_workers`` of their own."""
    return _shared_pool

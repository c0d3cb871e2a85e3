"""Call sync code from async code and async code from sync code (``asgiref.sync``)."""

from __future__ import annotations

from ..current_thread_executor import CurrentThreadExecutor as CurrentThreadExecutor
from ..local import Local as Local
from ._bridge import AsyncToSync as AsyncToSync
from ._bridge import SyncToAsync as SyncToAsync
from ._bridge import async_to_sync as async_to_sync
from ._bridge import sync_to_async as sync_to_async
from ._contexts import AsyncSingleThreadContext as AsyncSingleThreadContext
from ._contexts import ThreadSensitiveContext as ThreadSensitiveContext
from ._coroutines import iscoroutinefunction as iscoroutinefunction
from ._coroutines import markcoroutinefunction as markcoroutinefunction
from ._diagnostics import enable_from_environment as _enable_diagnostics_from_environment
from ._loop_thread import LoopThread as LoopThread

__all__ = [
    "AsyncSingleThreadContext",
    "AsyncToSync",
    "LoopThread",
    "SyncToAsync",
    "ThreadSensitiveContext",
    "async_to_sync",
    "iscoroutinefunction",
    "markcoroutinefunction",
    "sync_to_async",
]

# Only what this package defines; the coroutine helpers may be inspect's own.
for _defined_here in (
    AsyncSingleThreadContext,
    AsyncToSync,
    LoopThread,
    SyncToAsync,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
):
    _defined_here.__module__ = __name__
del _defined_here

# ASGIREF_DIAGNOSTICS=1: diagnostics mode from the start (no thread until the first call).
_enable_diagnostics_from_environment()

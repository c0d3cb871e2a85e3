"""Registries shared by the bridge and the thread contexts.

The published asgiref keeps these as class attributes of ``SyncToAsync`` and
``AsyncToSync``, and Django, Channels and monitoring agents read them there; the
classes expose these very objects under those names. None of them starts a
thread: executors and workers are created on first use.
"""

from __future__ import annotations

import contextvars
import threading
import weakref
from asyncio import AbstractEventLoop
from typing import TYPE_CHECKING

from ..current_thread_executor import CurrentThreadExecutor
from ..local import Local
from . import _fork
from ._workers import Worker, WorkerPool

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from ._contexts import AsyncSingleThreadContext, ThreadSensitiveContext

# Set in every thread that runs a sync_to_async function: main_event_loop,
# main_event_loop_pid, task_context (and bridge_of_main_loop, ours).
threadlocal = threading.local()

thread_sensitive_context: contextvars.ContextVar[ThreadSensitiveContext] = contextvars.ContextVar(
    "thread_sensitive_context"
)
deadlock_context: contextvars.ContextVar[bool] = contextvars.ContextVar("deadlock_context")
# ThreadSensitiveContext -> the executor running its thread-sensitive calls.
context_to_thread_executor: weakref.WeakKeyDictionary[ThreadSensitiveContext, Executor] = (
    weakref.WeakKeyDictionary()
)

# ``.current``: the innermost bridge (CurrentThreadExecutor) of this context.
bridge_executors = Local()
# As in the published asgiref, start with an explicit None in the importing context:
# loops started from it (asyncio.run in the main thread) then read the hot-path
# attribute as a hit rather than through a missing-attribute exception.
bridge_executors.current = None
# Loop of a running new-loop async_to_sync call -> that call's bridge executor.
loop_thread_executors: dict[AbstractEventLoop, CurrentThreadExecutor] = {}
async_single_thread_context: contextvars.ContextVar[AsyncSingleThreadContext] = (
    contextvars.ContextVar("async_single_thread_context")
)
# AsyncSingleThreadContext -> the loop thread all its calls use.
async_single_thread_runners: weakref.WeakKeyDictionary[AsyncSingleThreadContext, Worker] = (
    weakref.WeakKeyDictionary()
)

# Dedicated threads of ThreadSensitiveContexts, reused from one context to the next.
tsc_lanes = WorkerPool("asgiref-tsc-lane")

# The parent's calls in flight do not exist in a forked child.
_fork.after_fork_in_child(loop_thread_executors.clear)

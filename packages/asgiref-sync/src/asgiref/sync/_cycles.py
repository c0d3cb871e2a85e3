"""Waits that can never finish, told apart from waits that are merely slow.

A thread-sensitive call is queued for one thread (its *lane*) and waits there
until that thread takes it. The bridge raises instead of queueing only when it
can prove the wait is endless without guessing: the lane is the very thread
making the call. That thread is busy (it runs the sync function that started
the event loop making this call), so it can take the new call only after that
function returns, and the function returns only after its loop, which awaits
the new call, is done. This is how it happens:

* a thread-sensitive sync function starts an event loop of its own
  (``asyncio.run``, ``loop.run_until_complete``) and a coroutine there awaits a
  thread-sensitive call that is routed back to the function's own thread: the
  process-wide thread (the loop runs in a fresh ``contextvars.Context``, so the
  published ``deadlock_context`` flag is not seen), the thread of the enclosing
  ``ThreadSensitiveContext``, or the sync thread of an enclosing
  ``async_to_sync`` (there ``CurrentThreadExecutor`` refuses with its own
  message; the notes are added to it).

A lane held by a call that waits for something else (a ``threading.Event``, a
``threading.Thread``, work handed to ``run_in_executor``) is not provably
stuck, since the bridge cannot see what that call waits for: diagnostics mode
reports it as a slow lane instead.

The error keeps the published message (code and tests match on it) and names
the cycle in exception notes. Everything here runs only on the error path, and
:func:`remember_process_wide_lane` once, when the process-wide thread starts.
"""

from __future__ import annotations

import sys
import threading
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from types import FrameType
from typing import Any

from ..current_thread_executor import CurrentThreadExecutor
from . import _fork
from ._observe import callable_name
from ._workers import Worker

DEADLOCK_MESSAGE = "Single thread executor already being used, would deadlock"
# CurrentThreadExecutor.submit's refusal from its own thread (spec'd); notes are added to it.
OWN_THREAD_MESSAGE = "You cannot submit onto CurrentThreadExecutor from its own thread"

# The ident of the thread of the process-wide executor this package created, once it runs.
process_wide_lane: int | None = None


def remember_process_wide_lane() -> None:
    """The process-wide executor's initializer: runs once, in its one thread."""
    global process_wide_lane  # noqa: PLW0603 - one thread per process
    process_wide_lane = threading.get_ident()


def _forget_after_fork() -> None:
    global process_wide_lane  # noqa: PLW0603 - one thread per process
    process_wide_lane = None


_fork.after_fork_in_child(_forget_after_fork)


def lane_is_this_thread(executor: Executor) -> bool:
    """True when every job of ``executor`` runs in the current (busy) thread.

    Asked for the executor of a ``ThreadSensitiveContext``: one of our lanes, or
    an executor its user passed in.
    """
    if isinstance(executor, Worker):
        return executor.thread.ident == threading.get_ident()
    if isinstance(executor, ThreadPoolExecutor):
        # Only a one-thread pool is provably stuck: another thread could take the job.
        if getattr(executor, "_max_workers", 0) != 1:
            return False
        current = threading.current_thread()
        threads: object = getattr(executor, "_threads", ())
        if isinstance(threads, set) and current in threads:
            return True
        # The pool adds a thread to that set only after starting it, so its first job
        # can get here first: then tell its thread by the work queue it was started with.
        queue = getattr(executor, "_work_queue", None)
        started_with: object = getattr(current, "_args", ())
        return (
            queue is not None
            and isinstance(started_with, tuple)
            and any(argument is queue for argument in started_with)  # pyright: ignore[reportUnknownVariableType]
        )
    return False


def own_lane_error(waiting: Callable[..., Any]) -> RuntimeError:
    """The error for a call that would wait for the thread making it, with the cycle in notes."""
    error = RuntimeError(DEADLOCK_MESSAGE)
    describe_cycle(error, waiting)
    return error


def flagged_error(waiting: Callable[..., Any], lane: str) -> RuntimeError:
    """The published ``deadlock_context`` refusal, with what is known of the cycle in notes."""
    error = RuntimeError(DEADLOCK_MESSAGE)
    if process_wide_lane == threading.get_ident():
        describe_cycle(error, waiting)
    else:
        # The flag says a thread-sensitive call made earlier in this context (which this
        # context was copied from) still holds the process-wide thread, elsewhere.
        _add_note(
            error,
            f"cycle: lane {lane!r} (the process-wide thread-sensitive thread) is held by a "
            "sync_to_async call made earlier in this same context, which this call's "
            "context was copied from",
        )
        _add_note(
            error,
            f"cycle: {callable_name(waiting)} would wait for lane {lane!r}; asgiref refuses "
            "because that earlier call may be waiting for this one",
        )
        _add_note(error, _WAY_OUT)
    return error


def is_own_thread_refusal(error: RuntimeError, executor: Executor) -> bool:
    """True for CurrentThreadExecutor's refusal to queue work for the thread submitting it."""
    return isinstance(executor, CurrentThreadExecutor) and str(error) == OWN_THREAD_MESSAGE


_WAY_OUT = (
    "way out: await the inner call from the outer event loop instead of a nested one, "
    "or make it thread_sensitive=False if it does not need the thread-sensitive thread"
)


def describe_cycle(error: BaseException, waiting: Callable[..., Any]) -> None:
    """Add notes to ``error``: the lane (this thread), who holds it, the loop, the waiter."""
    lane = threading.current_thread().name
    holder, starter = _job_running_here(sys._getframe(1))  # pyright: ignore[reportPrivateUsage]
    loop = _get_running_loop()
    loop_text = "an event loop" if loop is None else f"event loop {type(loop).__name__}"
    held_by = "the code running on it" if holder is None else holder
    waiter = callable_name(waiting)
    _add_note(
        error, f"cycle: lane {lane!r} is held by {held_by}, a sync_to_async call running on it"
    )
    _add_note(
        error,
        f"cycle: {held_by} runs {loop_text} (started by {starter}) in that same thread "
        "and cannot return before that loop is done",
    )
    _add_note(
        error,
        f"cycle: {waiter}, awaited on that loop, would wait for lane {lane!r}, which takes "
        f"new work only once {held_by} has returned",
    )
    _add_note(error, _WAY_OUT)


def _job_running_here(frame: FrameType | None) -> tuple[str | None, str]:
    """The sync function of the innermost bridge job on this stack, and what started the loop."""
    from ._bridge import SyncToAsync  # the bridge imports this module

    job_code = vars(SyncToAsync)["thread_handler"].__code__
    starter = "a nested call"
    while frame is not None:
        if frame.f_code is job_code:
            call = frame.f_locals.get("self")
            func = getattr(call, "func", None)
            return (None if func is None else callable_name(func)), starter
        module = str(frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in ("asyncio", "trio"):
            # Outermost so far: the call that started the loop, not the loop's internals.
            starter = f"{module}.{_code_name(frame)}"
        frame = frame.f_back
    return None, starter


def _code_name(frame: FrameType) -> str:
    if sys.version_info >= (3, 11):
        return frame.f_code.co_qualname
    return frame.f_code.co_name


def _add_note(error: BaseException, note: str) -> None:
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        # Python 3.10 has no add_note; tools (and pytest) read __notes__ all the same.
        notes: list[str] = list(getattr(error, "__notes__", ()))
        notes.append(note)
        error.__notes__ = notes  # type: ignore[attr-defined]  # PEP 678 on 3.10

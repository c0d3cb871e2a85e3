"""A deadline for a block of code inside an asyncio task (deprecated).

Kept for code written before ``asyncio.timeout`` existed (Python 3.11). The
block's task is cancelled when the deadline passes, and the cancellation is
turned into ``TimeoutError`` on the way out of the block.
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from types import TracebackType

# Python 3.11 made asyncio.TimeoutError the builtin; before that, raising
# asyncio's own class lets both ``except`` spellings catch it.
if sys.version_info >= (3, 11):
    _Timeout = TimeoutError
else:
    _Timeout = asyncio.TimeoutError


class timeout:  # noqa: N801 - the published name is lowercase, used like a function
    """Cancel the current task if the block takes longer than ``timeout`` seconds.

    Usable as ``async with timeout(t):`` or ``with timeout(t):`` inside a task.
    ``None`` means no deadline; ``t <= 0`` cancels at the next loop iteration.
    """

    def __init__(
        self, timeout: float | None, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        warnings.warn(
            "asgiref.timeout.timeout is deprecated. Use asyncio.timeout() instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        if loop is None:
            loop = asyncio.get_running_loop()
        else:
            warnings.warn(
                "The loop argument to timeout() is deprecated.", DeprecationWarning, stacklevel=2
            )
        self._timeout = timeout
        self._loop = loop
        self._deadline: float | None = None
        self._timer: asyncio.Handle | None = None
        self._expired = False

    @property
    def expired(self) -> bool:
        """True once the deadline has passed and the task was cancelled."""
        return self._expired

    @property
    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without one."""
        if self._deadline is None:
            return None
        return max(self._deadline - self._loop.time(), 0.0)

    def __enter__(self) -> timeout:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._finish(exc_type)

    async def __aenter__(self) -> timeout:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._finish(exc_type)

    def _start(self) -> None:
        if self._timeout is None:
            return
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("Timeout context manager should be used inside a task")
        self._cancel_timer()
        if self._timeout <= 0:
            self._timer = self._loop.call_soon(self._expire, task)
        else:
            self._deadline = self._loop.time() + self._timeout
            self._timer = self._loop.call_at(self._deadline, self._expire, task)

    def _expire(self, task: asyncio.Task[object]) -> None:
        self._timer = None
        task.cancel()
        self._expired = True

    def _finish(self, exc_type: type[BaseException] | None) -> None:
        # Only the exact CancelledError our timer caused becomes a timeout; any
        # other outcome (including a body that swallowed the cancellation) passes
        # through untouched. The task's cancel request is deliberately not undone
        # (no Task.uncancel()), as in the published implementation.
        if exc_type is asyncio.CancelledError and self._expired:
            raise _Timeout
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

"""ApplicationCommunicator: run one ASGI application instance in-process for a test."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import sys
import time
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from asgiref.compatibility import guarantee_single_callable
from asgiref.typing import ASGIApplication, Scope

from ._output import OutputQueue
from ._validation import MessageValidator, ProtocolViolation, check_scope

if TYPE_CHECKING:
    from . import _trio_support

__all__ = ["AnyApplication", "ApplicationCommunicator", "abandon"]

# 3.11 made asyncio.TimeoutError an alias of the builtin; before that they differ and
# asgiref on 3.10 raised the asyncio one.  Drop this when 3.10 support goes.
if sys.version_info >= (3, 11):
    _TimeoutError = TimeoutError
else:
    _TimeoutError = asyncio.TimeoutError


# What a wait for output can end with, besides a message (which may be any object).
_KEEP_WAITING: Any = object()
_TIMED_OUT: Any = object()


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _trio_support_if_running() -> Any:
    """The trio primitives module when called in a trio run, else None (asyncio, or nothing).

    Asked only where asyncio has no loop, and trio is imported only if something
    else already did: asyncio users never import it.
    """
    if _get_running_loop() is not None or "trio" not in sys.modules:
        return None
    from . import _trio_support  # imported by trio users only

    return _trio_support if _trio_support.in_trio_run() else None


async def _until_done(
    future: asyncio.Task[Any] | _trio_support.TrioTask, timeout: float | None = None
) -> None:
    """Wait up to ``timeout`` s for ``future`` to end, cancelling neither it nor the caller."""
    if isinstance(future, asyncio.Task):
        # asyncio.wait arms a timer and never cancels its caller, so there is no
        # cancellation bookkeeping to undo; it does not cancel ``future``.
        await asyncio.wait({future}, timeout=timeout)
    else:
        await future.wait(patience=timeout)


def _start_in_empty_context(awaitable: Awaitable[Any]) -> asyncio.Task[Any]:
    """Schedule ``awaitable`` so it sees none of the caller's context variables."""
    loop = asyncio.get_running_loop()
    # Applications are nearly always coroutine functions, but any awaitable will do.
    coroutine = awaitable if inspect.iscoroutine(awaitable) else _await(awaitable)
    if sys.version_info >= (3, 11):
        return loop.create_task(coroutine, context=contextvars.Context())
    # 3.10's create_task has no context=; a task copies the context it is created in.
    return contextvars.Context().run(loop.create_task, coroutine)


# Anything guarantee_single_callable accepts.  Typed wider than ASGIApplication on
# purpose: frameworks annotate scope/receive/send with their own Mapping types, which
# a TypedDict-based callable type would reject.
AnyApplication = ASGIApplication | Callable[..., Any]


class ApplicationCommunicator:
    """Drive one ASGI application instance: feed it input and read what it sends.

    Nothing touches asyncio until first use, so an instance can be built outside a
    running event loop.  With ``validate=True`` the scope and every message the
    application sends are checked against the ASGI specification, and the first
    problem is raised as :class:`ProtocolViolation` both inside the application
    (from its ``send``) and from the next call made on the communicator.
    """

    def __init__(
        self,
        application: AnyApplication,
        scope: Scope | dict[str, Any],
        *,
        validate: bool = False,
    ) -> None:
        # First, so __del__ works even if validating the scope below raises.
        self._future: asyncio.Task[Any] | None = None
        self._input_queue: asyncio.Queue[Any] | None = None
        self._output_queue: asyncio.Queue[Any] | None = None
        # The _trio_support module, once first use found a trio run rather than an
        # asyncio loop (Any: a module object; its names are checked where defined).
        self._trio: Any = None
        self.application = guarantee_single_callable(application)
        # Typed as the plain dict it is, so tests can index any key of any scope type.
        self.scope: dict[str, Any] = cast("dict[str, Any]", scope)
        self._validator: MessageValidator | None = None
        self._violation: ProtocolViolation | None = None
        if validate:
            check_scope(scope)
            self._validator = MessageValidator(scope)

    @property
    def input_queue(self) -> asyncio.Queue[Any]:
        """Messages waiting for the application's ``receive()``."""
        if self._input_queue is None:
            trio_support = self._trio_support()
            made: asyncio.Queue[Any] = (
                asyncio.Queue() if trio_support is None else trio_support.TrioInputQueue()
            )
            self._input_queue = made
            return made
        return self._input_queue

    @property
    def output_queue(self) -> asyncio.Queue[Any]:
        """Messages the application has sent and nobody has received yet."""
        if self._output_queue is None:
            trio_support = self._trio_support()
            made: asyncio.Queue[Any] = (
                OutputQueue() if trio_support is None else trio_support.TrioOutputQueue()
            )
            self._output_queue = made
            return made
        return self._output_queue

    def _trio_support(self) -> Any:
        """The trio primitives if this communicator lives in a trio run, else None."""
        if self._trio is None:
            self._trio = _trio_support_if_running()
        return self._trio

    @property
    def future(self) -> asyncio.Task[Any]:
        """The application's task, started on first access.

        In a trio run, a task-like object (a trio system task) with the methods of
        ``asyncio.Task`` that tests use: done, cancelled, cancel, result, exception
        and add_done_callback.
        """
        if self._future is None:
            if self._validator is None:
                receive: Any = self.input_queue.get
                send: Any = self.output_queue.put
            else:
                receive = self._receive_and_track
                send = self._validate_and_send
            application = self.application(self.scope, receive, send)
            trio_support = self._trio_support()
            future: asyncio.Task[Any] = (
                _start_in_empty_context(application)
                if trio_support is None
                else trio_support.TrioTask(application)
            )
            self._future = future
            queue = self.output_queue
            if isinstance(queue, OutputQueue):
                # A receiver waiting for output learns at once that none will come.
                future.add_done_callback(queue.wake_receivers)
            return future
        return self._future

    async def _receive_and_track(self) -> Any:
        message = await self.input_queue.get()
        assert self._validator is not None
        self._validator.received(message)
        return message

    async def _validate_and_send(self, message: Any) -> None:
        assert self._validator is not None
        try:
            self._validator.sent(message)
        except ProtocolViolation as violation:
            if self._violation is None:
                self._violation = violation
                queue = self.output_queue
                if isinstance(queue, OutputQueue):
                    queue.wake_receivers()  # fail at once, not at the receiver's timeout
            raise
        await self.output_queue.put(message)

    def _raise_if_failed(self) -> None:
        """Raise the application's exception (or CancelledError) if its task ended so."""
        future = self.future
        if future.done():
            future.result()
            if self._validator is not None:
                self._check_return()
        if self._violation is not None:
            raise self._violation

    def _check_return(self) -> ProtocolViolation | None:
        """Record a violation if the application returned with its protocol unfinished.

        Only meaningful in validation mode; returns the recorded violation, if any.
        """
        future = self._future
        if (
            self._validator is not None
            and self._violation is None
            and future is not None
            and future.done()
            and not future.cancelled()
            and future.exception() is None
        ):
            try:
                self._validator.returned()
            except ProtocolViolation as violation:
                self._violation = violation
        return self._violation

    async def wait(self, timeout: float | None = 1) -> None:
        """Wait up to ``timeout`` seconds (None: no limit) for the application to finish.

        A timeout cancels the application and returns once it has finished; an
        exception the application raises propagates, and so does a recorded
        :class:`ProtocolViolation` in validation mode.
        """
        future = self.future
        try:
            if not future.done():
                await _until_done(future, timeout)
            if not future.done():
                future.cancel()
                await _until_done(future)
            if not future.cancelled():
                future.result()
            violation = self._check_return()
            if violation is not None:
                raise violation
        finally:
            if not future.done():
                # Only reached when this call itself was cancelled.
                future.cancel()
                await _until_done(future)

    def stop(self, exceptions: bool = True) -> None:
        """Cancel the application if it is still running, else surface its outcome."""
        if self._future is None:
            return
        if not self._future.done():
            self._future.cancel()
        elif exceptions:
            self._future.result()

    def __del__(self) -> None:
        # __init__ may not have run (or not got far) in a subclass that failed early.
        if getattr(self, "_future", None) is None:
            return
        # An instance dropped after its loop closed cannot cancel the task any more.
        with contextlib.suppress(RuntimeError):
            self.stop(exceptions=False)

    async def send_input(self, message: Any) -> None:
        """Give ``message`` to the application's next ``receive()``."""
        self._raise_if_failed()
        await self.input_queue.put(message)

    async def receive_output(self, timeout: float | None = 1) -> Any:
        """Return the next message the application sends, waiting up to ``timeout`` s.

        ``timeout=None`` waits without limit.  Messages the application sent before
        it failed are returned first; then its exception is raised.  On timeout the
        application is cancelled and ``TimeoutError`` is raised.
        """
        queue = self.output_queue
        self._raise_if_violated()
        # The common case in tests: the message is already there, so no timer at all.
        if not queue.empty():
            return queue.get_nowait()
        self._raise_if_failed()
        # One pass of the event loop first, timer-free: tests call this straight after
        # send_input, and the application usually answers within that pass.  A zero
        # timeout ends after it, as asyncio.timeout(0) does in the published asgiref.
        await (asyncio.sleep(0) if self._trio is None else self._trio.checkpoint())
        outcome = self._outcome_of_wait(queue, timeout is not None and timeout <= 0)
        if outcome is _KEEP_WAITING:
            outcome = await self._wait_for_output(queue, timeout)
        if outcome is _TIMED_OUT:
            return await self._time_out()
        return outcome

    def _outcome_of_wait(self, queue: asyncio.Queue[Any], expired: bool) -> Any:
        """What a receiver that just woke (or looked first) gets: a message, the
        application's failure (raised), ``_TIMED_OUT`` or ``_KEEP_WAITING``."""
        if self._validator is not None:
            self._raise_if_violated()
        future = self.future
        # At the deadline a still-running application is timed out even if a reply
        # raced it (as published); one that ended hands over what it sent.
        if not queue.empty() and (future.done() or not expired):
            return queue.get_nowait()
        if future.done():
            self._raise_if_failed()
        return _TIMED_OUT if expired else _KEEP_WAITING

    async def _wait_for_output(self, queue: asyncio.Queue[Any], timeout: float | None) -> Any:
        """Wait for a put, the application's end, a violation or the deadline, as often
        as it takes; return what :meth:`_outcome_of_wait` decides (never _KEEP_WAITING)."""
        if not isinstance(queue, OutputQueue):
            raise TypeError(
                "receive_output() needs the communicator's own output_queue; put messages "
                "on it rather than replacing it"
            )
        if self._trio is not None:
            trio_queue = cast("_trio_support.TrioOutputQueue", queue)
            deadline = None if timeout is None else self._trio.current_time() + timeout
            while True:
                expired = await trio_queue.wait_for_put(deadline)
                outcome = self._outcome_of_wait(queue, expired)
                if outcome is not _KEEP_WAITING:
                    return outcome
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while True:
            # A plain future, awaited in this frame: the hot path of a delayed reply.
            waiter = queue.next_put(deadline)
            try:
                expired = await waiter
            finally:
                queue.forget(waiter)
            outcome = self._outcome_of_wait(queue, expired)
            if outcome is not _KEEP_WAITING:
                return outcome

    async def _time_out(self) -> NoReturn:
        """Stop the application and raise ``TimeoutError`` (or what it raises when stopped)."""
        future = self.future
        # A failed application raises its exception instead; one that returned normally
        # is reported as silent.  An exception raised while being cancelled wins too.
        future.cancel()
        await _until_done(future)
        if not future.cancelled():
            future.result()
        # Without a message, as the published asgiref raises it (asyncio.timeout's own).
        raise _TimeoutError

    def _raise_if_violated(self) -> None:
        """In validation mode, raise the first violation found, even over queued output."""
        if self._validator is None:
            return
        violation = self._check_return()
        if violation is None:
            return
        future = self._future
        if future is not None and future.done() and not future.cancelled():
            # Mark the application's own failure (usually this very violation, raised
            # from its send) as seen, so asyncio does not log it as never retrieved.
            future.exception()
        raise violation

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        """Return True if no message is waiting or arrives within ``timeout`` seconds.

        Nothing is consumed.
        """
        self._raise_if_failed()
        queue = self.output_queue
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not queue.empty():
                return False
            if self._trio is None:
                await asyncio.sleep(interval)
            else:
                await self._trio.sleep(interval)
        return queue.empty()


async def abandon(communicator: ApplicationCommunicator) -> None:
    """Stop ``communicator``'s application and wait for it, discarding its outcome.

    For helpers whose caller already has a more useful error to raise.
    """
    future = communicator.future
    if not future.done():
        future.cancel()
        await _until_done(future)
    if not future.cancelled():
        # Retrieved so asyncio does not log it as never retrieved.
        future.exception()

"""ApplicationCommunicator: run one ASGI application instance in-process for a test."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.compatibility import guarantee_single_callable
from asgiref.typing import ASGIApplication, Scope

from ._validation import MessageValidator, ProtocolViolation, check_scope

__all__ = ["AnyApplication", "ApplicationCommunicator", "abandon"]

# 3.11 made asyncio.TimeoutError an alias of the builtin; before that they differ and
# asgiref on 3.10 raised the asyncio one.  Drop this when 3.10 support goes.
if sys.version_info >= (3, 11):
    _TimeoutError = TimeoutError
else:
    _TimeoutError = asyncio.TimeoutError


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _start_in_empty_context(awaitable: Awaitable[Any]) -> asyncio.Task[Any]:
    """Schedule ``awaitable`` so it sees none of the caller's context variables."""
    loop = asyncio.get_running_loop()
    # Applications are nearly always coroutine functions, but any awaitable will do.
    coroutine = awaitable if inspect.iscoroutine(awaitable) else _await(awaitable)
    if sys.version_info >= (3, 11):
        return loop.create_task(coroutine, context=contextvars.Context())
    # 3.10's create_task has no context=; a task copies the context it is created in.
    return contextvars.Context().run(loop.create_task, coroutine)


def _put_back_first(queue: asyncio.Queue[Any], message: Any) -> None:
    """Return ``message`` to the head of ``queue`` (its getter was cancelled too late)."""
    rest: list[Any] = []
    while not queue.empty():
        rest.append(queue.get_nowait())
    queue.put_nowait(message)
    for item in rest:
        queue.put_nowait(item)


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
        self.application = guarantee_single_callable(application)
        # Typed as the plain dict it is, so tests can index any key of any scope type.
        self.scope: dict[str, Any] = cast("dict[str, Any]", scope)
        self._validator: MessageValidator | None = None
        self._violation: ProtocolViolation | None = None
        # Set while receive_output waits, so a violation can end the wait at once.
        self._wake_receiver: Any = None
        if validate:
            check_scope(scope)
            self._validator = MessageValidator(scope)

    @property
    def input_queue(self) -> asyncio.Queue[Any]:
        """Messages waiting for the application's ``receive()``."""
        if self._input_queue is None:
            self._input_queue = asyncio.Queue()
        return self._input_queue

    @property
    def output_queue(self) -> asyncio.Queue[Any]:
        """Messages the application has sent and nobody has received yet."""
        if self._output_queue is None:
            self._output_queue = asyncio.Queue()
        return self._output_queue

    @property
    def future(self) -> asyncio.Task[Any]:
        """The application's task, started on first access."""
        if self._future is None:
            if self._validator is None:
                receive: Any = self.input_queue.get
                send: Any = self.output_queue.put
            else:
                receive = self._receive_and_track
                send = self._validate_and_send
            self._future = _start_in_empty_context(self.application(self.scope, receive, send))
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
                if self._wake_receiver is not None:
                    self._wake_receiver()
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
                # asyncio.wait arms a timer and never cancels its caller, so there is
                # no cancellation bookkeeping to undo; it does not cancel ``future``.
                await asyncio.wait({future}, timeout=timeout)
            if not future.done():
                future.cancel()
                await asyncio.wait({future})
            if not future.cancelled():
                future.result()
            violation = self._check_return()
            if violation is not None:
                raise violation
        finally:
            if not future.done():
                # Only reached when this call itself was cancelled.
                future.cancel()
                await asyncio.wait({future})

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

        ``timeout=None`` waits without limit.

        On timeout the application is cancelled and ``TimeoutError`` is raised
        (unless the application failed, in which case its exception is raised).
        """
        self._raise_if_failed()
        queue = self.output_queue
        # The common case in tests: the message is already there, so no timer at all.
        if not queue.empty():
            return queue.get_nowait()
        return await self._wait_for_output(queue, timeout)

    async def _wait_for_output(self, queue: asyncio.Queue[Any], timeout: float | None) -> Any:
        loop = asyncio.get_running_loop()
        future = self.future
        getter = loop.create_task(queue.get())
        wakeup = loop.create_future()

        def wake(_: object = None) -> None:
            if not wakeup.done():
                wakeup.set_result(None)

        def wake_if_failed(task: asyncio.Task[Any]) -> None:
            # A normal finish is no reason to stop waiting (the test may still put
            # output on the queue itself, and the spec waits out the timeout), unless
            # validation finds the application returned too early.
            if task.cancelled() or task.exception() is not None or self._check_return():
                wake()

        getter.add_done_callback(wake)
        future.add_done_callback(wake_if_failed)
        timer = None if timeout is None else loop.call_later(timeout, wake)
        self._wake_receiver = wake
        try:
            await wakeup
        except asyncio.CancelledError:
            # Our caller was cancelled.
            self._keep_or_cancel(queue, getter)
            raise
        finally:
            self._wake_receiver = None
            if timer is not None:
                timer.cancel()
            future.remove_done_callback(wake_if_failed)
            getter.remove_done_callback(wake)
        if self._violation is not None:
            # Validation fails at once, even over output sent before the bad message.
            self._keep_or_cancel(queue, getter)
            raise self._violation
        if getter.done():
            return getter.result()
        getter.cancel()
        self._raise_if_failed()
        # Timed out while the application is still running: stop it, letting any
        # exception it raises while being cancelled win over the timeout.
        future.cancel()
        await asyncio.wait({future})
        if not future.cancelled():
            future.result()
        raise _TimeoutError(f"the application sent no message within {timeout} s")

    @staticmethod
    def _keep_or_cancel(queue: asyncio.Queue[Any], getter: asyncio.Task[Any]) -> None:
        """Abandon ``getter`` without losing a message it already took off ``queue``."""
        if getter.done() and not getter.cancelled():
            _put_back_first(queue, getter.result())
        else:
            getter.cancel()

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
            await asyncio.sleep(interval)
        return queue.empty()


async def abandon(communicator: ApplicationCommunicator) -> None:
    """Stop ``communicator``'s application and wait for it, discarding its outcome.

    For helpers whose caller already has a more useful error to raise.
    """
    future = communicator.future
    if not future.done():
        future.cancel()
        await asyncio.wait({future})
    if not future.cancelled():
        # Retrieved so asyncio does not log it as never retrieved.
        future.exception()

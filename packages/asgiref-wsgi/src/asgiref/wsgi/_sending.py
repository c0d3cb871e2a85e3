"""Sending the response to the ASGI server, on the event loop.

The WSGI thread hands over messages in batches: everything one step of the application
produced (a whole list response, or one streamed chunk with the start before it). The
last batch comes back as the thread's return value and is sent by the request's task.

Earlier ones go through a ``SendWindow`` under asyncio: the thread hands a batch to the
loop and produces the next while it is sent, and waits for that send to finish before
handing over the next. So one batch is in flight and one in the making at most, a slow
client holds the application back, and a send that failed or was stopped surfaces at the
thread's next hand-over or at its end. (Waiting for each send, as one ``async_to_sync``
hop per batch does, was measured about a fifth slower for a streamed megabyte; letting
the thread run further ahead gains nothing more, as both then want the GIL.) In a trio
run the thread calls ``deliver`` through ``async_to_sync``, which returns once the batch
is sent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Protocol, TypeVar

from ._errors import ClientDisconnected
from ._types import Message, Send

# Sending this many messages without the server's send() ever suspending (as to a client
# already gone) yields to the loop once, so other requests and the disconnect watch run.
_MESSAGES_PER_TURN = 32

_T_co = TypeVar("_T_co", covariant=True)


class ServerTask(Protocol[_T_co]):
    """A task talking to the server: an ``asyncio.Task``, or its trio stand-in."""

    def cancel(self) -> bool: ...

    def __await__(self) -> Generator[Any, None, _T_co]: ...


Spawn = Callable[[Coroutine[Any, Any, None]], Awaitable[None]]


class ResponseSender:
    """The response messages of one request, sent in order to the server's ``send``.

    ``spawn`` runs the coroutine that calls ``send`` for a batch of the WSGI thread's hop:
    as a task in the context the ASGI call came with, or in the hop's own (see the adapter).
    """

    def __init__(self, send: Send, spawn: Spawn) -> None:
        self._send = send
        self._spawn = spawn
        # True from the moment the http.response.start message is handed to send().
        self.start_sent = False
        # Why the response stopped early (client gone, request cancelled, body refused):
        # every later batch is dropped and deliver() raises this.
        self.stopped: Callable[[], BaseException] | None = None
        # What send() raised, if it failed.
        self.send_error: Exception | None = None

    def stop(self, reason: Callable[[], BaseException]) -> None:
        """Send nothing more of this response; the first reason given is kept."""
        if self.stopped is None:
            self.stopped = reason

    async def deliver(self, messages: list[Message]) -> None:
        """The WSGI thread's hop: send a batch, or raise why the response stopped."""
        if self.stopped is None:
            await self._spawn(self._send_until_stopped(messages))
        messages.clear()  # drop the bodies now, while the thread still waits for us
        if self.stopped is not None:
            raise self.stopped()

    async def send_all(self, messages: list[Message]) -> None:
        """Send ``messages`` unless stopped; a failing send() stops the response."""
        if self.stopped is None:
            await self._send_until_stopped(messages)

    async def send_instead(self, messages: list[Message]) -> None:
        """Send a response of the adapter's own in place of the application's (a 413)."""
        if self.send_error is None:
            self.stopped = None
            await self._send_until_stopped(messages)

    async def _send_until_stopped(self, messages: list[Message]) -> None:
        for index, message in enumerate(messages):
            if index and index % _MESSAGES_PER_TURN == 0:
                await yield_to_other_tasks()
            if self.stopped is not None:
                return
            if message["type"] == "http.response.start":
                self.start_sent = True
            try:
                await self._send(message)
            except Exception as exc:  # noqa: BLE001 - any failure of send() ends the response
                self.send_error = exc
                self.stop(functools.partial(_send_failed, exc))
                return


async def yield_to_other_tasks() -> None:
    """One pass of the event loop (asyncio's, or the trio run's) for the other tasks."""
    if _get_running_loop() is not None:
        await asyncio.sleep(0)
    else:
        from . import _trio_support  # imported by trio users only

        await _trio_support.checkpoint()


def _send_failed(cause: Exception) -> BaseException:
    error = ClientDisconnected(f"the ASGI server could not send the response: {cause!r}")
    error.__cause__ = cause
    return error


class SendWindow:
    """Streamed batches of one request, handed over by the WSGI thread to an asyncio loop.

    ``hand_over`` returns once the batch is scheduled, after the previous one was sent;
    each batch is sent by a task of its own in a copy of ``context`` (the one the ASGI call
    came with); ``started`` runs on the loop before each send begins.
    """

    def __init__(
        self,
        sender: ResponseSender,
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context,
        started: Callable[[], None],
    ) -> None:
        self._sender = sender
        self._loop = loop
        self._context = context
        self._started = started
        # Thread side: the outcome of the batch in flight.
        self._in_flight: concurrent.futures.Future[None] | None = None
        # Loop side: the task sending it.
        self._task: asyncio.Task[None] | None = None

    def hand_over(self, messages: list[Message]) -> None:
        """From the WSGI thread: wait for the previous batch, then schedule this one.

        Raises why the response stopped (client gone, request cancelled, send failed).
        """
        self.finish()
        stopped = self._sender.stopped
        if stopped is not None:
            raise stopped()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        # A copy: the context may be entered on the loop right now (see _in_server_context).
        self._loop.call_soon_threadsafe(self._send, messages, done, context=self._context.copy())
        self._in_flight = done

    def finish(self) -> None:
        """From the WSGI thread: wait until the batch in flight is sent; raise if it stopped."""
        done = self._in_flight
        if done is not None:
            self._in_flight = None
            done.result()

    def settle(self) -> None:
        """From the WSGI thread, on its way out: wait for the batch in flight, whatever came."""
        done = self._in_flight
        if done is not None:
            self._in_flight = None
            concurrent.futures.wait([done])

    def cancel(self) -> None:
        """On the loop, once the response is stopped: end a send that may never return."""
        if self._task is not None:
            self._task.cancel()

    def _send(self, messages: list[Message], done: concurrent.futures.Future[None]) -> None:
        self._started()
        task = self._task = self._loop.create_task(self._sender.send_all(messages))
        task.add_done_callback(functools.partial(self._sent, done))

    def _sent(self, done: concurrent.futures.Future[None], task: asyncio.Task[None]) -> None:
        if self._task is task:
            self._task = None
        stopped = self._sender.stopped
        if stopped is not None:
            done.set_exception(stopped())
        elif task.cancelled():
            done.set_exception(ClientDisconnected("the response was cancelled while sent"))
        elif (error := task.exception()) is not None:
            done.set_exception(error)
        else:
            done.set_result(None)

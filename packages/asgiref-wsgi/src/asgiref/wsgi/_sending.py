"""Sending the response to the ASGI server, on the event loop.

The WSGI thread hands over messages in batches: everything one step of the application
produced (a whole list response, or one streamed chunk with the start before it). The
last batch comes back as the thread's return value and is sent by the request's task.
Earlier ones arrive through ``deliver``, which the thread calls with ``async_to_sync``
and which returns once the batch is sent: a slow client holds the application back, and
one batch at most is in memory. (Letting the thread run ahead while the loop sends was
measured slower: both then want the GIL at once.)
"""

from __future__ import annotations

import asyncio
import functools
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Callable, Coroutine, Generator
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


Spawn = Callable[[Coroutine[Any, Any, None]], ServerTask[None]]


class ResponseSender:
    """The response messages of one request, sent in order to the server's ``send``.

    ``spawn`` starts the task that calls ``send`` for a batch of the WSGI thread; the
    adapter makes it run in the context the ASGI call came with, not the thread's.
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

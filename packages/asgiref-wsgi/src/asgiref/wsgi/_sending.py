"""Sending the response to the ASGI server, on the event loop.

The WSGI thread hands over messages in batches: everything one step of the application
produced (a whole list response, or one streamed chunk with the start before it). The
last batch comes back as the thread's return value and is sent by the request's task.
Earlier ones arrive through ``deliver``, which the thread calls with ``async_to_sync``:
it queues the batch for a pump task and returns at once, so the application makes its
next chunk while the server sends this one. While ``HIGH_WATER`` bytes are queued or
being sent, ``deliver`` waits: a slow client holds the application back and memory
stays bounded.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, Final

from ._errors import ClientDisconnected
from ._types import Message, Send

HIGH_WATER: Final[int] = 256 * 1024
# What a message costs beyond its body (a dict, one call of send): counting it bounds a
# batch of tiny chunks too.
MESSAGE_COST: Final[int] = 1024
# Sending this many messages without the server's send() ever suspending (as to a client
# already gone) yields to the loop once, so other requests and the disconnect watch run.
_MESSAGES_PER_TURN = 32

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


def _cost(messages: list[Message]) -> int:
    return sum(len(m.get("body", b"")) + MESSAGE_COST for m in messages)


class ResponseSender:
    """The response messages of one request, sent in order to the server's ``send``.

    ``spawn`` starts the pump task; the adapter makes it run in the context the ASGI
    call came with rather than in the WSGI thread's.
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
        self._queue: list[Message] = []
        self._queued_bytes = 0
        self._sending_bytes = 0
        self._pump: asyncio.Task[None] | None = None
        self._room: asyncio.Future[None] | None = None

    def stop(self, reason: Callable[[], BaseException]) -> None:
        """Send nothing more of this response; the first reason given is kept."""
        if self.stopped is None:
            self.stopped = reason
        self._queue = []
        self._queued_bytes = 0
        self._wake_writer()

    async def deliver(self, messages: list[Message]) -> None:
        """The WSGI thread's hop: queue a batch, waiting while too much is queued."""
        if self.stopped is None:
            self._queue.extend(messages)
            self._queued_bytes += _cost(messages)
            if self._pump is None:
                self._pump = self._spawn(self._drain())
            if self._queued_bytes + self._sending_bytes >= HIGH_WATER:
                room = self._room = asyncio.get_running_loop().create_future()
                await room
        if self.stopped is not None:
            raise self.stopped()

    async def _drain(self) -> None:
        try:
            while self._queue and self.stopped is None:
                batch, self._queue = self._queue, []
                self._sending_bytes, self._queued_bytes = self._queued_bytes, 0
                await self._send_until_stopped(batch)
                batch.clear()  # drop the bodies now
                self._sending_bytes = 0
                self._wake_writer()
        finally:
            self._pump = None
            self._wake_writer()

    def _wake_writer(self) -> None:
        room = self._room
        if room is not None and not room.done():
            self._room = None
            room.set_result(None)

    async def flush(self) -> None:
        """Wait until every delivered batch was sent (or dropped)."""
        pump = self._pump
        if pump is not None:
            await pump

    def cancel(self) -> None:
        """The request is over: drop whatever is still queued."""
        pump = self._pump
        if pump is not None:
            pump.cancel()

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
                await asyncio.sleep(0)
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


def _send_failed(cause: Exception) -> BaseException:
    error = ClientDisconnected(f"the ASGI server could not send the response: {cause!r}")
    error.__cause__ = cause
    return error

"""Response messages, handed from the WSGI thread to the event loop that sends them.

The WSGI thread ``put``s messages; the event loop ``deliver``s them to the server's
``send`` in batches: everything queued since the last batch goes out together, with one
wake-up of the loop at most per batch. The thread blocks while more than ``high_water``
bytes are queued or being sent, so a slow client holds back the application instead of
letting its output pile up in memory.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable

from ._errors import ClientDisconnected
from ._loop_waker import waker_for
from ._types import Message, Send

DEFAULT_HIGH_WATER = 256 * 1024
# What a message costs beyond its body (a dict, one call of send): counting it bounds a
# batch of tiny chunks, so one batch cannot keep the event loop busy for long.
MESSAGE_COST = 1024
_MESSAGES_PER_TURN = 32


class ResponseChannel:
    """The messages of one response, from one WSGI thread to one event loop."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, high_water: int = DEFAULT_HIGH_WATER
    ) -> None:
        self._loop = loop
        self._waker = waker_for(loop)
        self._high_water = high_water
        self._lock = threading.Lock()
        # Held (acquired) while the WSGI thread waits for room; the event loop releases it.
        # Made on demand: most responses never fill the queue.
        self._writer_waiting: threading.Lock | None = None
        self._messages: list[Message] = []
        self._queued_bytes = 0
        self._sending_bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self._abort: Callable[[], BaseException] | None = None
        self._start_queued = False
        self._replacement: list[Message] | None = None
        self.finished = False
        self.error: BaseException | None = None
        self.send_error: BaseException | None = None

    # ------------------------------------------------------------------ WSGI thread side

    def put(self, messages: list[Message], size: int, *, starts: bool, last: bool) -> None:
        """Queue ``messages`` (``size`` body bytes in all); ``last`` ends the response.

        Waits first while the queue is full. Raises the abort error once the response
        was aborted (client gone, server failure, request cancelled).
        """
        while True:
            with self._lock:
                if self._abort is not None:
                    raise self._abort()
                if self._queued_bytes + self._sending_bytes < self._high_water:
                    self._messages.extend(messages)
                    self._queued_bytes += size + MESSAGE_COST * len(messages)
                    if starts:
                        self._start_queued = True
                    if last:
                        self.finished = True
                    waiter = self._waiter
                    self._waiter = None
                    break
                waiting = self._writer_waiting = threading.Lock()
                waiting.acquire()
            waiting.acquire()  # until the event loop has sent some, or aborted
        if waiter is not None:
            self._waker.resolve(waiter)

    def finish(self, error: BaseException | None) -> None:
        """The WSGI side is done (``error`` is what it raised, if anything)."""
        with self._lock:
            self.error = error
            self.finished = True
            waiter = self._waiter
            self._waiter = None
        if waiter is not None:
            self._waker.resolve(waiter)

    # ------------------------------------------------------------------ event loop side

    def abort(self, error: Callable[[], BaseException]) -> None:
        """Stop the response: queued messages are dropped and the next ``put`` raises."""
        with self._lock:
            if self._abort is None:
                self._abort = error
            self._messages = []
            self._queued_bytes = 0
            self._wake_writer()

    def replace_unless_started(
        self, messages: list[Message], error: Callable[[], BaseException]
    ) -> bool:
        """Abort and answer ``messages`` instead, if no response start was queued yet."""
        with self._lock:
            if self._start_queued:
                return False
            self._replacement = messages
        self.abort(error)
        return True

    def _wake_writer(self) -> None:
        """Release a waiting WSGI thread; call with the lock held."""
        waiting = self._writer_waiting
        if waiting is not None:
            self._writer_waiting = None
            waiting.release()

    @property
    def aborted(self) -> bool:
        return self._abort is not None

    async def deliver(self, send: Send) -> None:
        """Send the queued messages until the WSGI side has finished.

        A failing ``send`` aborts the response (recorded in ``send_error``); the loop
        still waits for the WSGI side to finish, so its ``close()`` has run on return.
        """
        while True:
            with self._lock:
                messages = self._messages
                if messages:
                    self._messages = []
                    self._sending_bytes = self._queued_bytes
                    self._queued_bytes = 0
                    waiter = None
                elif self.finished:
                    break
                else:
                    waiter = self._waiter = self._loop.create_future()
            if waiter is None:
                await self._send_batch(send, messages)
                continue
            try:
                await waiter
            finally:
                with self._lock:
                    self._waiter = None
        replacement = self._replacement
        if replacement is not None and self.send_error is None:
            self._replacement = None
            for message in replacement:
                await send(message)

    async def _send_batch(self, send: Send, messages: list[Message]) -> None:
        try:
            for index, message in enumerate(messages):
                if index % _MESSAGES_PER_TURN == 0 and index:
                    # Let other tasks run (the disconnect watch among them) even when
                    # send() never suspends, as a server's send to a gone client does.
                    await asyncio.sleep(0)
                if self._abort is not None:
                    break
                await send(message)
        except Exception as exc:  # noqa: BLE001 - any failure of send() ends the response
            self.send_error = exc
            self.abort(functools.partial(_send_failed, exc))
        messages.clear()  # drop the bodies now, not when the caller's frame moves on
        with self._lock:
            self._sending_bytes = 0
            self._wake_writer()
            more = bool(self._messages)
        if more:
            # With a fast application and a send() that never suspends this loop would
            # otherwise run for the whole response, starving every other task.
            await asyncio.sleep(0)


def _send_failed(cause: BaseException) -> BaseException:
    error = ClientDisconnected(f"the ASGI server could not send the response: {cause!r}")
    error.__cause__ = cause
    return error

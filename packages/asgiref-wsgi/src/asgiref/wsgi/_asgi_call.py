"""One request of AsgiToWsgi: the ASGI application on the loop, the WSGI server's thread.

The application runs as a task on the adapter's event loop; the server's request thread
waits in :meth:`AsgiCall.next_item`. They meet through two one-way channels:

* loop -> thread: a ``SimpleQueue`` of response pieces (:class:`ResponsePiece`), "read
  more of the body" (:data:`WANT_BODY`) and the end of the application (:class:`Ended`).
  ``http.response.start`` is held back until the first body bytes (or the end of the
  response), so a small response wakes the thread once.
* thread -> loop: ``call_soon_threadsafe`` with a chunk of the request body, or with the
  news that the server closed the response early (the client is gone).

Only the request thread touches ``wsgi.input``: reading is blocking I/O. Response bytes
handed over but not yet taken by the server are counted; past ``HIGH_WATER`` the
application's ``send()`` waits, so memory stays bounded whatever the body size.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from queue import Empty, SimpleQueue
from typing import Any, cast

from ._asgi_app import App, run_app
from ._asgi_scope import RequestFacts
from ._bytes import as_bytes
from ._errors import ClientDisconnected

logger = logging.getLogger("asgiref.wsgi")

# Request body bytes read from wsgi.input per http.request message.
CHUNK_SIZE = 64 * 1024
# Response bytes the server may have waiting before send() waits, and the level at
# which it goes on.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024

_NOT_STARTED, _STARTED, _COMPLETE = 0, 1, 2
_DISCONNECT = "http.disconnect"

# PEP 3333: an application must not set these; wsgiref refuses them.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
_STATUS_LINES = {int(status): f"{int(status)} {status.phrase}" for status in HTTPStatus}


class ResponsePiece:
    """Response bytes for the server; the first piece also carries the status and headers."""

    __slots__ = ("body", "final", "headers", "status_line")

    def __init__(
        self,
        start: tuple[str, list[tuple[str, str]]] | None,
        body: bytes,
        final: bool,
    ) -> None:
        self.status_line, self.headers = start if start is not None else ("", [])
        self.body = body
        self.final = final


class Ended:
    """The application's coroutine returned (``error`` None) or raised ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


WANT_BODY = "want body"

Item = ResponsePiece | Ended | str


class AsgiCall:
    """One HTTP request in flight between an ASGI application and a WSGI server."""

    def __init__(
        self,
        app: App,
        scope: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
        request: RequestFacts,
    ) -> None:
        self._app = app
        self._scope = scope
        self._loop = loop
        self._items: SimpleQueue[Item] = SimpleQueue()
        # Request thread side.
        self._read: Callable[[int], Any] = request.read
        self._body_left = request.body_length  # None: read to EOF
        if request.body_length is None and not request.read_to_eof:
            self._body_left = 0  # PEP 3333: no Content-Length and no termination, no body
        self._lock = threading.Lock()  # the end of the app vs the server closing the response
        self._closed_by_server = False
        self._consumed = 0
        self._saw_final = False
        self._last_woken: asyncio.Future[None] | None = None
        # Loop side.
        self._ready_body: tuple[bytes, bool] | None = None
        self._body_complete = False
        self._body_waiter: asyncio.Future[tuple[bytes, bool] | None] | None = None
        self._disconnect_waiters: list[asyncio.Future[None]] = []
        self._response = _NOT_STARTED
        self._held_start: tuple[str, list[tuple[str, str]]] | None = None
        self._produced = 0
        self._drain_waiter: asyncio.Future[None] | None = None
        self._client_gone = False

    # ------------------------------------------------------------------ request thread

    def read_first_chunk(self) -> None:
        """Before the application starts, read the body's first chunk (all of a small one)."""
        self._ready_body = self._read_chunk()

    def next_item(self) -> ResponsePiece | Ended:
        """Wait for the application's next response piece or its end, reading body on demand."""
        items = self._items
        while True:
            item = items.get()
            if type(item) is ResponsePiece:
                return self._taken(item)
            if type(item) is Ended:
                return item
            # WANT_BODY
            self._loop.call_soon_threadsafe(self._body_arrived, self._read_chunk())

    def close(self) -> None:
        """The server closed the response: tell the application if it was not complete."""
        with self._lock:
            if self._closed_by_server:
                return
            self._closed_by_server = True
            leftovers: list[Item] = []
            while True:
                try:
                    leftovers.append(self._items.get_nowait())
                except Empty:
                    break
        for item in leftovers:
            if isinstance(item, Ended) and item.error is not None:
                _log_late_failure(item.error)
        if not self._saw_final:
            self._loop.call_soon_threadsafe(self._server_closed)

    def _taken(self, piece: ResponsePiece) -> ResponsePiece:
        self._consumed += len(piece.body)
        if piece.final:
            self._saw_final = True
        waiter = self._drain_waiter
        if (
            waiter is not None
            and waiter is not self._last_woken
            and self._produced - self._consumed <= LOW_WATER
        ):
            self._last_woken = waiter
            self._loop.call_soon_threadsafe(_resolve, waiter)
        return piece

    def _read_chunk(self) -> tuple[bytes, bool] | None:
        """The next body chunk and whether more follows; None when the client went away."""
        left = self._body_left
        if left == 0:
            return (b"", False)
        try:
            data = self._read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
        except Exception:
            logger.debug("AsgiToWsgi: reading wsgi.input failed", exc_info=True)
            return None
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                logger.error("AsgiToWsgi: wsgi.input.read() returned %r, not bytes", type(data))
                return None
            data = bytes(cast("bytes", data))
        if left is None:
            return (data, bool(data))
        if not data:
            return None  # the body ended before Content-Length: the client went away
        left -= len(data)
        self._body_left = left
        return (data, left > 0)

    # ------------------------------------------------------------------ event loop

    def start(self) -> None:
        """Start the application's task (called in the loop's thread, in a fresh context)."""
        self._loop.create_task(
            run_app(self._app, self._scope, self._receive, self._send, self._ended)
        )

    def _ended(self, error: BaseException | None) -> None:
        if self._response == _COMPLETE:
            # The server has everything it needs and waits no more.
            if error is not None:
                _log_late_failure(error)
            return
        with self._lock:
            if not self._closed_by_server:
                self._items.put(Ended(error))
                return
        if error is not None:
            _log_late_failure(error)

    async def _receive(self) -> dict[str, Any]:
        if self._client_gone or self._response == _COMPLETE:
            # As ASGI servers do: once the response is over, the body no longer matters.
            return {"type": _DISCONNECT}
        ready = self._ready_body
        if ready is not None:
            self._ready_body = None
            return self._request_message(ready)
        if self._body_complete:
            # Nothing more will come: wait for the end of the response or of the client.
            waiter = self._loop.create_future()
            self._disconnect_waiters.append(waiter)
            try:
                await waiter
            finally:
                self._disconnect_waiters.remove(waiter)
            return {"type": _DISCONNECT}
        if self._body_waiter is not None:
            raise RuntimeError(
                "AsgiToWsgi: receive() was called while another receive() for the same "
                "request is still waiting for the request body"
            )
        waiter = self._body_waiter = self._loop.create_future()
        self._items.put(WANT_BODY)
        try:
            chunk = await waiter
        finally:
            self._body_waiter = None
        if chunk is None:
            return {"type": _DISCONNECT}
        return self._request_message(chunk)

    def _request_message(self, chunk: tuple[bytes, bool] | None) -> dict[str, Any]:
        if chunk is None:
            self._body_complete = True
            self._client_gone = True
            return {"type": _DISCONNECT}
        body, more = chunk
        if not more:
            self._body_complete = True
        return {"type": "http.request", "body": body, "more_body": more}

    def _body_arrived(self, chunk: tuple[bytes, bool] | None) -> None:
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(chunk)
        else:
            self._ready_body = chunk  # its receive() was cancelled; keep it for the next

    def _server_closed(self) -> None:
        if self._response == _COMPLETE:
            return
        self._client_gone = True
        self._wake_disconnect_waiters()
        if self._body_waiter is not None and not self._body_waiter.done():
            self._body_waiter.set_result(None)
        if self._drain_waiter is not None:
            _resolve(self._drain_waiter)

    def _wake_disconnect_waiters(self) -> None:
        for waiter in self._disconnect_waiters:
            _resolve(waiter)

    async def _send(self, message: Any) -> None:
        if type(message) is not dict:
            raise TypeError(f"AsgiToWsgi: an ASGI message must be a dict, not {message!r}")
        checked = cast("dict[str, Any]", message)
        kind = checked.get("type")
        if kind == "http.response.body":
            await self._send_body(checked)
        elif kind == "http.response.start":
            self._send_start(checked)
        else:
            raise ValueError(
                f"AsgiToWsgi: unexpected ASGI message type {kind!r}; an HTTP response is "
                "'http.response.start' then 'http.response.body' messages"
            )

    def _send_start(self, message: dict[str, Any]) -> None:
        if self._response != _NOT_STARTED:
            raise RuntimeError(
                "AsgiToWsgi: 'http.response.start' was sent twice; one response per request"
            )
        start = (_status_line(message.get("status")), _wsgi_headers(message.get("headers", ())))
        if self._client_gone:
            raise ClientDisconnected("the WSGI server closed the response: the client is gone")
        self._held_start = start
        self._response = _STARTED

    async def _send_body(self, message: dict[str, Any]) -> None:
        if self._response != _STARTED:
            if self._response == _NOT_STARTED:
                raise RuntimeError(
                    "AsgiToWsgi: 'http.response.body' was sent before 'http.response.start'"
                )
            raise RuntimeError(
                "AsgiToWsgi: 'http.response.body' was sent after the response completed "
                "(a previous body message had more_body False)"
            )
        body: Any = message.get("body", b"")
        if type(body) is not bytes:
            body = as_bytes(body, "AsgiToWsgi: 'body' must be bytes, not {}")
        more = message.get("more_body", False)
        if more is not False and more is not True:
            raise TypeError(f"AsgiToWsgi: 'more_body' must be a bool, not {more!r}")
        if self._client_gone:
            raise ClientDisconnected("the WSGI server closed the response: the client is gone")
        if more and not body:
            return  # nothing for the server yet (a held start stays held)
        start = self._held_start
        self._held_start = None
        if not more:
            self._response = _COMPLETE
            self._wake_disconnect_waiters()
        self._produced += len(body)
        self._items.put(ResponsePiece(start, body, not more))
        if more and self._produced - self._consumed > HIGH_WATER:
            await self._drained()

    async def _drained(self) -> None:
        waiter = self._drain_waiter = self._loop.create_future()
        try:
            # Checked again after publishing the waiter: the server may have caught up.
            if self._produced - self._consumed > LOW_WATER and not self._client_gone:
                await waiter
        finally:
            self._drain_waiter = None
        if self._client_gone:
            raise ClientDisconnected("the WSGI server closed the response: the client is gone")


def _resolve(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _status_line(status: object) -> str:
    if type(status) is not int or not 100 <= status <= 999:
        raise TypeError(
            f"AsgiToWsgi: 'status' of http.response.start must be an int from 100 to 999, "
            f"not {status!r}"
        )
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"{status} Unknown"


def _wsgi_headers(headers: object) -> list[tuple[str, str]]:
    converted: list[tuple[str, str]] = []
    try:
        pairs: Iterator[Any] = iter(cast("Iterable[Any]", headers))
    except TypeError:
        raise TypeError(
            f"AsgiToWsgi: 'headers' must be an iterable of [name, value] pairs, not {headers!r}"
        ) from None
    for pair in pairs:
        name: Any
        value: Any
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"AsgiToWsgi: each header must be a [name, value] pair of bytes, not {pair!r}"
            ) from None
        if type(name) is not bytes or type(value) is not bytes:
            raise TypeError(f"AsgiToWsgi: header names and values must be bytes, not {pair!r}")
        if b"\r" in value or b"\n" in value or b"\0" in value or not _is_token(name):
            raise ValueError(f"AsgiToWsgi: header {pair!r} cannot be sent in HTTP/1.1")
        if name.lower() in _HOP_BY_HOP:
            continue  # the WSGI server owns the connection
        converted.append((name.decode("latin-1"), value.decode("latin-1")))
    return converted


_NOT_IN_TOKENS = frozenset(b'\0\t\n\r "(),/:;<=>?@[\\]{}\x7f')


def _is_token(name: bytes) -> bool:
    return (
        bool(name) and name.isascii() and min(name) > 32 and not _NOT_IN_TOKENS.intersection(name)
    )


def _log_late_failure(error: BaseException) -> None:
    if isinstance(error, (ClientDisconnected, asyncio.CancelledError)):
        return  # the expected end of an application whose client left
    logger.error(
        "AsgiToWsgi: the ASGI application raised after its response was complete or closed",
        exc_info=error,
    )

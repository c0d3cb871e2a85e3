"""Reading the request from the ASGI server, on the event loop.

Before a request gets a thread, ``RequestReceiver.read`` collects its body until it is
complete or ``PREBUFFER_BYTES`` have arrived. A client that trickles its body therefore
costs the server a pending ``receive()`` on the loop, not a thread: only requests whose
body is complete, or at least that large, reach the application. The rest of a larger
body is read ``REFILL_BYTES`` at a time as the application asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from ._bytes import as_bytes
from ._errors import ClientDisconnected, RequestBodyTooLarge
from ._types import Receive

# 64 KiB is what the published adapter keeps in memory before spooling to disk, and
# comfortably more than a typical form or JSON body: those arrive whole.
PREBUFFER_BYTES: Final[int] = 64 * 1024
# Per trip of the application's thread to the loop: a few server messages at a time.
REFILL_BYTES: Final[int] = 256 * 1024

_REQUEST_CHUNK_ERROR = "http.request body must be bytes, got {}"
NOT_HTTP_REQUEST = "WSGI wrapper received a non-HTTP-request message"


class RequestReceiver:
    """The ``http.request`` messages of one request, read on the event loop."""

    def __init__(self, receive: Receive, limit: int | None) -> None:
        self._receive = receive
        self._limit = limit
        self._received = 0
        self.complete = False
        # What ended the body early, if anything; later reads raise the same.
        self.disconnected = False
        self.too_large = False
        self.unexpected_message = False
        # A fault of the server (bad message, receive() failing): the ASGI call raises it.
        self.protocol_error: BaseException | None = None

    async def read(self, budget: int) -> list[bytes]:
        """Receive until ``budget`` bytes arrived or the body is complete.

        Raises ``ClientDisconnected`` (client gone, or a server fault kept in
        ``protocol_error``), ``RequestBodyTooLarge``, or the ``ValueError`` for a
        message that is not ``http.request``; every later read raises the same.
        """
        self._raise_if_failed()
        chunks: list[bytes] = []
        size = 0
        while not self.complete and size < budget:
            chunk, more_body = await self._next_chunk()
            self._received += len(chunk)
            if self._limit is not None and self._received > self._limit:
                self.too_large = True
                self._raise_if_failed()
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
            self.complete = not more_body
        return chunks

    async def receive_after_body(self) -> Any:
        """The next message once the body is complete (a server sends http.disconnect)."""
        return await self._receive()

    async def _next_chunk(self) -> tuple[bytes, bool]:
        try:
            received: object = await self._receive()
            if not isinstance(received, Mapping):
                raise TypeError(
                    f"receive() must return a message dict, got {type(received).__name__}"
                )
            message = cast("Mapping[str, Any]", received)
            kind = message.get("type")
            if kind == "http.request":
                chunk = message.get("body", b"")
                if type(chunk) is not bytes:
                    chunk = as_bytes(chunk, _REQUEST_CHUNK_ERROR)
                return chunk, bool(message.get("more_body", False))
            if kind == "http.disconnect":
                self.disconnected = True
            else:
                self.unexpected_message = True
                self.protocol_error = ValueError(NOT_HTTP_REQUEST)
        except Exception as exc:  # noqa: BLE001 - whatever receive() raised ends the body
            self.protocol_error = exc
        self._raise_if_failed()
        raise AssertionError("a failed read always raises")  # pragma: no cover

    def _raise_if_failed(self) -> None:
        if self.unexpected_message:
            raise ValueError(NOT_HTTP_REQUEST)
        error = self.protocol_error
        if error is not None:
            failure = ClientDisconnected(f"the ASGI server's receive() failed: {error!r}")
            failure.__cause__ = error
            raise failure
        if self.disconnected:
            raise ClientDisconnected("the client disconnected before the request body was complete")
        if self.too_large:
            raise RequestBodyTooLarge(too_large_text(self._limit).decode("ascii"))


def too_large_text(limit: int | None) -> bytes:
    return f"Content Too Large: the request body is over the limit of {limit} bytes".encode()

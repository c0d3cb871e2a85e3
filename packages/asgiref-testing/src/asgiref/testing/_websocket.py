"""WebSocketTester: open WebSockets to any ASGI application and talk over them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from contextlib import asynccontextmanager
from typing import Any, cast

from asgiref.typing import WebSocketScope

from ._communicator import AnyApplication, ApplicationCommunicator, abandon
from ._requests import (
    ConnectionSettings,
    HeaderPairs,
    encode_headers,
    has_header,
    split_target,
)
from ._validation import (
    ProtocolViolation,
    bytes_field,
    check_scope,
    header_pairs,
    typed_message,
)

__all__ = ["WebSocketClosed", "WebSocketDenied", "WebSocketSession", "WebSocketTester"]

_WEBSOCKET_SPEC_VERSION = "2.5"
# Close code a server reports when the peer closed without giving one (RFC 6455 §7.1.5).
_NO_STATUS_RECEIVED = 1005


class WebSocketDenied(Exception):
    """The application refused the handshake.

    ``status`` is the HTTP status the client would see: 403 when the application
    closed before accepting, or the status of its denial response (the
    ``websocket.http.response`` extension), whose ``headers`` and ``body`` are
    kept too.  ``code`` and ``reason`` come from the ``websocket.close`` message,
    when that is how the application refused.
    """

    def __init__(
        self,
        status: int,
        *,
        code: int | None = None,
        reason: str = "",
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.code = code
        self.reason = reason
        self.headers = headers if headers is not None else []
        self.body = body
        detail = f"close code {code}" if code is not None else "a denial response"
        super().__init__(
            f"the application denied the WebSocket handshake with {detail} (HTTP {status})"
            + (f": {reason}" if reason else "")
        )


class WebSocketClosed(Exception):
    """The application closed the WebSocket while the test expected a message."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(
            f"the application closed the WebSocket with code {code}"
            + (f": {reason}" if reason else "")
        )


def _close_details(message: dict[str, Any]) -> tuple[int, str]:
    # The defaults a server applies: code 1000, reason "" when missing or None.
    code = message.get("code", 1000)
    return (code if isinstance(code, int) else 1000), str(message.get("reason") or "")


class WebSocketSession:
    """One accepted WebSocket, seen from the client side."""

    def __init__(
        self,
        communicator: ApplicationCommunicator,
        timeout: float,
        subprotocol: str | None,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        self._communicator = communicator
        self._timeout = timeout
        self._received = 1  # the accept
        self._client_closed = False
        #: The subprotocol the application chose on accept, if any.
        self.subprotocol = subprotocol
        #: Extra headers the application sent with its accept.
        self.headers = headers
        #: The code and reason of the application's ``websocket.close``, once it sent one.
        self.close_code: int | None = None
        self.close_reason = ""

    async def send_text(self, text: str) -> None:
        """Send a text frame to the application."""
        if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"send_text() takes a str, got {type(text).__name__}")
        await self._communicator.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame to the application."""
        if not isinstance(data, bytes):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"send_bytes() takes bytes, got {type(data).__name__}")
        await self._communicator.send_input({"type": "websocket.receive", "bytes": data})

    async def receive(self) -> str | bytes:
        """The next frame the application sends: a str (text) or bytes (binary).

        Raises :class:`WebSocketClosed` if the application closes instead.
        """
        if self.close_code is not None:
            raise WebSocketClosed(self.close_code, self.close_reason)
        self._received += 1
        kind, message = typed_message(
            await self._communicator.receive_output(self._timeout), self._received
        )
        if kind == "websocket.send":
            text = message.get("text")
            if isinstance(text, str):
                return text
            if message.get("bytes") is not None:
                return bytes_field(message, "bytes", self._received)
            raise ProtocolViolation(
                f"expected 'text' (a str) or 'bytes' to be set, got {message!r}",
                index=self._received,
                message_type=kind,
            )
        if kind == "websocket.close":
            self.close_code, self.close_reason = _close_details(message)
            raise WebSocketClosed(self.close_code, self.close_reason)
        raise ProtocolViolation(
            f"expected 'websocket.send' or 'websocket.close', got {kind!r}",
            index=self._received,
            message_type=kind,
        )

    async def receive_text(self) -> str:
        """The next frame, which must be text."""
        frame = await self.receive()
        if not isinstance(frame, str):
            # An unmet test expectation about the application, not a bad argument.
            raise AssertionError(  # noqa: TRY004
                f"expected a text frame, the application sent bytes {frame!r}"
            )
        return frame

    async def receive_bytes(self) -> bytes:
        """The next frame, which must be binary."""
        frame = await self.receive()
        if not isinstance(frame, bytes):
            # An unmet test expectation about the application, not a bad argument.
            raise AssertionError(  # noqa: TRY004
                f"expected a binary frame, the application sent text {frame!r}"
            )
        return frame

    async def receive_close(self) -> int:
        """Wait for the application to close the socket; return its close code.

        The reason is then in :attr:`close_reason`.
        """
        try:
            frame = await self.receive()
        except WebSocketClosed as closed:
            return closed.code
        raise AssertionError(f"expected the application to close the WebSocket, it sent {frame!r}")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the client side and wait for the application to finish."""
        if self._client_closed:
            return
        self._client_closed = True
        await self._communicator.send_input(
            {"type": "websocket.disconnect", "code": code, "reason": reason}
        )
        await self._communicator.wait(self._timeout)


class WebSocketTester(ConnectionSettings):
    """Open WebSockets to an ASGI application, in-process.

    ``connect()`` is an async context manager yielding a :class:`WebSocketSession`
    once the application accepted, or raising :class:`WebSocketDenied`.  Leaving
    the block closes the socket (code 1000, or the application's own code if it
    closed first) and waits for the application to finish.
    """

    def __init__(
        self,
        application: AnyApplication,
        *,
        validate: bool = False,
        timeout: float = 1.0,
        scheme: str = "ws",
        server: tuple[str, int | None] | None = ("testserver", 80),
        client: tuple[str, int] | None = ("127.0.0.1", 50000),
        root_path: str = "",
        state: dict[str, Any] | None = None,
        extensions: dict[str, dict[object, object]] | None = None,
    ) -> None:
        super().__init__(
            application,
            validate=validate,
            timeout=timeout,
            scheme=scheme,
            server=server,
            client=client,
            root_path=root_path,
            state=state,
            extensions=extensions,
        )

    def build_scope(
        self,
        path: str,
        *,
        query_string: str | bytes | None = None,
        headers: HeaderPairs = (),
        subprotocols: Iterable[str] = (),
    ) -> WebSocketScope:
        """The scope a server would build for this handshake (validated)."""
        decoded_path, raw_path, query = split_target(path, query_string)
        offered = [subprotocols] if isinstance(subprotocols, str) else list(subprotocols)
        for name in offered:
            given = cast("object", name)  # callers without a type checker pass anything
            if not isinstance(given, str):
                raise TypeError(f"subprotocols must be str, got {type(given).__name__} {given!r}")
        header_list = encode_headers(headers)
        if not has_header(header_list, b"host"):
            host = self.server[0] if self.server is not None else "testserver"
            header_list.insert(0, (b"host", host.encode("idna")))
        if offered and not has_header(header_list, b"sec-websocket-protocol"):
            header_list.append((b"sec-websocket-protocol", ", ".join(offered).encode("latin-1")))
        scope: WebSocketScope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": _WEBSOCKET_SPEC_VERSION},
            "http_version": "1.1",
            "scheme": self.scheme,
            "path": decoded_path,
            "raw_path": raw_path,
            "query_string": query,
            "root_path": self.root_path,
            "headers": header_list,
            "client": self.client,
            "server": self.server,
            "subprotocols": offered,
            "extensions": dict(self.extensions or {}),
        }
        if self.state is not None:
            scope["state"] = dict(self.state)
        check_scope(scope)
        return scope

    @asynccontextmanager
    async def connect(
        self,
        path: str,
        *,
        query_string: str | bytes | None = None,
        headers: HeaderPairs = (),
        subprotocols: Iterable[str] = (),
    ) -> AsyncGenerator[WebSocketSession, None]:
        """Open a WebSocket and yield the session once the application accepted."""
        scope = self.build_scope(
            path, query_string=query_string, headers=headers, subprotocols=subprotocols
        )
        communicator = ApplicationCommunicator(self.application, scope, validate=self.validate)
        try:
            await communicator.send_input({"type": "websocket.connect"})
            session = await self._handshake(communicator)
        except WebSocketDenied:
            raise
        except BaseException:
            await abandon(communicator)
            raise
        try:
            yield session
        except BaseException:
            await abandon(communicator)
            raise
        if session.close_code is None:
            await session.close()
        else:
            await session.close(session.close_code, session.close_reason)

    async def _handshake(self, communicator: ApplicationCommunicator) -> WebSocketSession:
        kind, message = typed_message(await communicator.receive_output(self.timeout), 1)
        if kind == "websocket.accept":
            headers = header_pairs(message.get("headers"), 1, kind)
            subprotocol = message.get("subprotocol")
            if subprotocol is not None and not isinstance(subprotocol, str):
                raise ProtocolViolation(
                    f"'subprotocol' must be a str or None, got {subprotocol!r}",
                    index=1,
                    message_type=kind,
                )
            return WebSocketSession(communicator, self.timeout, subprotocol, headers)
        if kind == "websocket.close":
            code, reason = _close_details(message)
            await self._after_denial(communicator)
            raise WebSocketDenied(403, code=code, reason=reason)
        if kind == "websocket.http.response.start":
            status = message.get("status")
            if not isinstance(status, int) or isinstance(status, bool):
                raise ProtocolViolation(
                    f"'status' must be an int, got {status!r}", index=1, message_type=kind
                )
            headers = header_pairs(message.get("headers"), 1, kind)
            body = await self._denial_body(communicator)
            await self._after_denial(communicator)
            raise WebSocketDenied(status, headers=headers, body=body)
        raise ProtocolViolation(
            "expected 'websocket.accept', 'websocket.close' or"
            f" 'websocket.http.response.start', got {kind!r}",
            index=1,
            message_type=kind,
        )

    async def _denial_body(self, communicator: ApplicationCommunicator) -> bytes:
        body = bytearray()
        received = 1
        while True:
            received += 1
            kind, part = typed_message(await communicator.receive_output(self.timeout), received)
            if kind != "websocket.http.response.body":
                raise ProtocolViolation(
                    f"expected 'websocket.http.response.body', got {kind!r}",
                    index=received,
                    message_type=kind,
                )
            body += bytes_field(part, "body", received)
            if not part.get("more_body", False):
                return bytes(body)

    async def _after_denial(self, communicator: ApplicationCommunicator) -> None:
        # After a refused handshake a server reports the connection gone to any later
        # receive(); the application then has `timeout` to finish.
        await communicator.send_input({"type": "websocket.disconnect", "code": _NO_STATUS_RECEIVED})
        await communicator.wait(self.timeout)

"""HttpTester: send HTTP requests to any ASGI application and read its responses."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from asgiref.typing import HTTPScope

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

__all__ = ["HttpResponse", "HttpTester", "StreamingResponse"]

# The HTTP message format our scopes announce.  2.4 would promise that send() raises
# OSError once the client is gone, which a communicator's queue cannot do; apps such as
# Starlette then watch for http.disconnect instead, which we do send.
_HTTP_SPEC_VERSION = "2.3"


def _header(headers: list[tuple[bytes, bytes]], name: str | bytes) -> bytes | None:
    wanted = (name.encode("latin-1") if isinstance(name, str) else name).lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def _body_chunks(body: bytes | Iterable[bytes]) -> list[bytes]:
    if isinstance(body, bytes):
        return [body]
    if isinstance(body, (str, bytearray, memoryview)):
        raise TypeError(
            f"body must be bytes or an iterable of bytes chunks, got {type(body).__name__}"
        )
    chunks = list(body)
    for position, chunk in enumerate(chunks):
        if not isinstance(chunk, bytes):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"body chunk {position} must be bytes, got {type(chunk).__name__}")
    return chunks or [b""]


@dataclass(frozen=True)
class HttpResponse:
    """A complete response: status, headers, the whole body and any trailers."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list[tuple[bytes, bytes]])

    def header(self, name: str | bytes) -> bytes | None:
        """The first value of header ``name`` (any case), or None when absent."""
        return _header(self.headers, name)


class _ResponseReader:
    """Reads one response's messages from a communicator, in protocol order."""

    def __init__(self, communicator: ApplicationCommunicator, timeout: float) -> None:
        self._communicator = communicator
        self._timeout = timeout
        self._received = 0
        self._trailers_expected = False
        self.complete = False
        self.closed = False
        self.trailers: list[tuple[bytes, bytes]] = []

    async def _next(self) -> tuple[str, dict[str, Any]]:
        message: object = await self._communicator.receive_output(self._timeout)
        self._received += 1
        return typed_message(message, self._received)

    def _unexpected(self, kind: str, expected: str) -> ProtocolViolation:
        return ProtocolViolation(
            f"expected {expected}, got {kind!r}", index=self._received, message_type=kind
        )

    async def start(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        while True:
            kind, message = await self._next()
            if kind == "http.response.debug":
                continue  # test-client information; a response starts after it
            if kind != "http.response.start":
                raise self._unexpected(kind, "'http.response.start'")
            status = message.get("status")
            if not isinstance(status, int) or isinstance(status, bool):
                raise ProtocolViolation(
                    f"'status' must be an int, got {status!r}",
                    index=self._received,
                    message_type=kind,
                )
            self._trailers_expected = bool(message.get("trailers", False))
            return status, header_pairs(message.get("headers"), self._received, kind)

    async def next_chunk(self) -> bytes | None:
        """The next body chunk as sent (possibly empty), or None once the body is over."""
        if self.complete:
            return None
        kind, message = await self._next()
        if kind != "http.response.body":
            raise self._unexpected(kind, "'http.response.body'")
        body = bytes_field(message, "body", self._received)
        if not message.get("more_body", False):
            if self._trailers_expected:
                await self._read_trailers()
            self.complete = True
        return body

    async def _read_trailers(self) -> None:
        while True:
            kind, message = await self._next()
            if kind != "http.response.trailers":
                raise self._unexpected(kind, "'http.response.trailers'")
            self.trailers.extend(header_pairs(message.get("headers"), self._received, kind))
            if not message.get("more_trailers", False):
                return

    async def close(self) -> None:
        """Tell the application the client is gone and let it finish."""
        if self.closed:
            return
        self.closed = True
        # What a server sends to a receive() after the response, or when the client
        # leaves early; a still-running application then has `timeout` to return.
        await self._communicator.send_input({"type": "http.disconnect"})
        await self._communicator.wait(self._timeout)


class _BodyChunks:
    """The iterator of a streamed body: each non-empty chunk, as the application sends it.

    A plain object rather than an async generator, so that leaving an ``async for`` early
    leaves nothing to finalize: trio warns (``ResourceWarning``) about an async generator
    collected unfinished, and asyncio finalizes one only later, on its loop.
    """

    def __init__(self, reader: _ResponseReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _BodyChunks:
        return self

    async def __anext__(self) -> bytes:
        while (chunk := await self._reader.next_chunk()) is not None:
            if chunk:
                return chunk
        raise StopAsyncIteration


class StreamingResponse:
    """A response whose body is read chunk by chunk: ``async for chunk in response``."""

    def __init__(
        self, reader: _ResponseReader, status: int, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self._reader = reader
        self.status = status
        self.headers = headers

    def header(self, name: str | bytes) -> bytes | None:
        """The first value of header ``name`` (any case), or None when absent."""
        return _header(self.headers, name)

    @property
    def complete(self) -> bool:
        """Whether the application has sent its final body message."""
        return self._reader.complete

    @property
    def trailers(self) -> list[tuple[bytes, bytes]]:
        """Trailers received so far (only after the body, with the trailers extension)."""
        return self._reader.trailers

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield each non-empty body chunk as the application sends it."""
        return _BodyChunks(self._reader)

    async def read(self) -> bytes:
        """The rest of the body, joined."""
        return b"".join([chunk async for chunk in self])


class HttpTester(ConnectionSettings):
    """Send HTTP requests to an ASGI application, in-process.

    ``request()`` returns the whole response; ``stream()`` is an async context
    manager that yields the response as soon as it starts, to read the body chunk
    by chunk.  Each request runs one application instance through an
    :class:`ApplicationCommunicator`; ``validate=True`` checks everything the
    application sends against the ASGI specification.  ``state`` (for example
    ``LifespanManager.state``) is shallow-copied into every request's scope.
    """

    def __init__(
        self,
        application: AnyApplication,
        *,
        validate: bool = False,
        timeout: float = 1.0,
        scheme: str = "http",
        server: tuple[str, int | None] | None = ("testserver", 80),
        client: tuple[str, int] | None = ("127.0.0.1", 50000),
        root_path: str = "",
        http_version: str = "1.1",
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
        self.http_version = http_version

    def _host(self) -> bytes:
        if self.server is None:
            return b"testserver"
        host, port = self.server
        default = 443 if self.scheme == "https" else 80
        text = host if port in (None, default) else f"{host}:{port}"
        return text.encode("idna")

    def build_scope(
        self,
        method: str,
        path: str,
        *,
        query_string: str | bytes | None = None,
        headers: HeaderPairs = (),
        content_length: int | None = None,
    ) -> HTTPScope:
        """The scope a server would build for this request (validated)."""
        decoded_path, raw_path, query = split_target(path, query_string)
        header_list = encode_headers(headers)
        if not has_header(header_list, b"host"):
            header_list.insert(0, (b"host", self._host()))
        if (
            content_length
            and not has_header(header_list, b"content-length")
            and not has_header(header_list, b"transfer-encoding")
        ):
            header_list.append((b"content-length", str(content_length).encode("ascii")))
        scope: HTTPScope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": _HTTP_SPEC_VERSION},
            "http_version": self.http_version,
            "method": method.upper(),
            "scheme": self.scheme,
            "path": decoded_path,
            "raw_path": raw_path,
            "query_string": query,
            "root_path": self.root_path,
            "headers": header_list,
            "client": self.client,
            "server": self.server,
            "extensions": dict(self.extensions or {}),
        }
        if self.state is not None:
            scope["state"] = dict(self.state)
        check_scope(scope)
        return scope

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        query_string: str | bytes | None = None,
        headers: HeaderPairs = (),
        body: bytes | Iterable[bytes] = b"",
    ) -> AsyncGenerator[StreamingResponse, None]:
        """Send a request and yield its response once ``http.response.start`` arrived.

        ``body`` is bytes (one ``http.request`` message) or an iterable of chunks
        (one message each).  Leaving the block early disconnects the client.
        """
        chunks = _body_chunks(body)
        scope = self.build_scope(
            method,
            path,
            query_string=query_string,
            headers=headers,
            content_length=sum(len(chunk) for chunk in chunks),
        )
        communicator = ApplicationCommunicator(self.application, scope, validate=self.validate)
        for position, chunk in enumerate(chunks):
            more_body = position < len(chunks) - 1
            await communicator.send_input(
                {"type": "http.request", "body": chunk, "more_body": more_body}
            )
        reader = _ResponseReader(communicator, self.timeout)
        try:
            status, response_headers = await reader.start()
            yield StreamingResponse(reader, status, response_headers)
        except BaseException:
            # The application failed or the test's block did: that error is the one to
            # see, so the application is only stopped, its own outcome discarded.
            await abandon(communicator)
            raise
        await reader.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query_string: str | bytes | None = None,
        headers: HeaderPairs = (),
        body: bytes | Iterable[bytes] = b"",
    ) -> HttpResponse:
        """Send a request and return the complete response."""
        async with self.stream(
            method, path, query_string=query_string, headers=headers, body=body
        ) as response:
            content = await response.read()
        return HttpResponse(response.status, response.headers, content, list(response.trailers))

    async def get(self, path: str, *, headers: HeaderPairs = ()) -> HttpResponse:
        """Shorthand for ``request("GET", path, headers=headers)``."""
        return await self.request("GET", path, headers=headers)

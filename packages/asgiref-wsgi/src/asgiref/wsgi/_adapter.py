"""``WsgiToAsgi``: serve a WSGI application from an ASGI server.

Each HTTP request runs the application in a thread of a bounded pool. Three parties work
on a request at once:

* the WSGI thread calls the application and iterates its response, queueing ASGI
  messages on a ``ResponseChannel`` (and reading ``wsgi.input`` from a ``BodyChannel``);
* the request's own coroutine delivers the queued messages to the server's ``send``;
* a pump task calls the server's ``receive``: it feeds request body chunks to the
  ``BodyChannel`` while the application wants them, then waits for ``http.disconnect``.

Everything the application produces in one go (a list of chunks, say) reaches the event
loop in one hop, so a small response costs one hop to the thread and one hop back.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Iterable
from typing import Any, cast

from ._environ import build_environ
from ._errors import ClientDisconnected, RequestBodyTooLarge
from ._other_scopes import answer_lifespan, refuse_websocket
from ._pool import LazyPool, shared_pool
from ._request_body import BodyChannel, RequestBody
from ._response_channel import ResponseChannel
from ._response_start import ResponseStartError, encode_headers, parse_status
from ._types import Environ, Message, OptExcInfo, Receive, Scope, Send, Write, WSGIApplication

logger = logging.getLogger("asgiref.wsgi")


def _plain_response(status: int, body: bytes) -> list[Message]:
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "http.response.body", "body": body},
    ]


_APP_CHUNK_ERROR = (
    "a WSGI application must produce bytes, got {}; encode text before returning or writing it"
)
_REQUEST_CHUNK_ERROR = "http.request body must be bytes, got {}"


def _as_bytes(chunk: object, error: str) -> bytes:
    """``chunk`` as bytes when it is bytes-like; else a TypeError from ``error``."""
    if isinstance(chunk, (bytes, bytearray)):
        return bytes(chunk)
    if isinstance(chunk, memoryview):
        return chunk.tobytes()
    raise TypeError(error.format(type(chunk).__name__))


def _declared_length(environ: Environ) -> int | None:
    value = environ.get("CONTENT_LENGTH", "")
    return int(value) if value.isascii() and value.isdigit() else None


def _checked_body_limit(limit: object) -> int | None:
    if limit is None:
        return None
    if not isinstance(limit, int) or limit < 0:
        raise ValueError(
            f"max_request_body_size must be None or a number of bytes >= 0, got {limit!r}"
        )
    return limit


def _request_finished() -> BaseException:
    return ClientDisconnected("the request has finished; its body can no longer be read")


def _request_cancelled() -> BaseException:
    return ClientDisconnected("the ASGI server cancelled the request")


def _disconnected_while_reading() -> BaseException:
    return ClientDisconnected("the client disconnected before the request body was complete")


def _disconnected_while_sending() -> BaseException:
    return ClientDisconnected("the client disconnected before the response was complete")


def _not_http_request() -> BaseException:
    return ValueError("WSGI wrapper received a non-HTTP-request message")


class WsgiToAsgi:
    """Wrap a WSGI application so an ASGI server can serve it.

    ``duplicate_header_limit`` caps how often one request header may repeat (None or 0:
    no cap); a request over it is answered ``400``. ``max_workers`` gives this adapter a
    thread pool of its own of that size (default: a pool of ``DEFAULT_MAX_WORKERS``
    threads shared by every adapter). ``max_request_body_size`` answers ``413`` to
    requests whose body is larger (default: no limit).
    """

    def __init__(
        self,
        wsgi_application: WSGIApplication,
        duplicate_header_limit: int | None = 100,
        *,
        max_workers: int | None = None,
        max_request_body_size: int | None = None,
    ) -> None:
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self.max_request_body_size = _checked_body_limit(max_request_body_size)
        self._pool = shared_pool() if max_workers is None else LazyPool(max_workers)

    @property
    def max_workers(self) -> int:
        """How many requests this adapter runs at once; later ones wait for a thread."""
        return self._pool.max_workers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = WsgiToAsgiInstance(
            self.wsgi_application,
            self.duplicate_header_limit,
            max_request_body_size=self.max_request_body_size,
            thread_pool=self._pool,
        )
        await instance(scope, receive, send)


class WsgiToAsgiInstance:
    """One request (or one lifespan / refused WebSocket) of a ``WsgiToAsgi`` adapter."""

    # Set by __call__ and start_response respectively; absent until then.
    scope: Scope
    response_start: Message

    def __init__(
        self,
        wsgi_application: WSGIApplication,
        duplicate_header_limit: int | None = 100,
        *,
        max_request_body_size: int | None = None,
        thread_pool: LazyPool | None = None,
    ) -> None:
        # thread_pool is how WsgiToAsgi hands over its own pool; alone, the shared one runs.
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self.max_request_body_size = _checked_body_limit(max_request_body_size)
        self.response_started = False
        self.response_content_length: int | None = None
        self._pool = shared_pool() if thread_pool is None else thread_pool
        self._body_bytes = 0
        self._disconnected = False
        self._body_refused = False
        self._receive_error: BaseException | None = None

    # ------------------------------------------------------------------ event loop side

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await answer_lifespan(receive, send)
                return
            if kind == "websocket":
                await refuse_websocket(receive, send)
                return
            raise ValueError("WSGI wrapper received a non-HTTP scope")

        loop = asyncio.get_running_loop()
        body = BodyChannel(loop)
        try:
            environ = self.build_environ(scope, RequestBody(body))
        except ValueError as exc:
            logger.info("answered 400 to a request that cannot be handed to WSGI: %s", exc)
            for message in _plain_response(400, b"Bad Request: Too many duplicate headers"):
                await send(message)
            return
        limit = self.max_request_body_size
        if limit is not None:
            declared = _declared_length(environ)
            if declared is not None and declared > limit:
                logger.info("answered 413: Content-Length %d is over %d", declared, limit)
                for message in _plain_response(413, self._too_large_text(limit)):
                    await send(message)
                return

        response = self._response = ResponseChannel(loop)
        context = contextvars.copy_context()
        self._pool.get().submit(context.run, self._run, environ)
        pump = loop.create_task(self._pump(receive, body, response))
        try:
            await response.deliver(send)
        except BaseException:
            # Cancelled: no thread may stay blocked on a request nobody serves any more.
            response.abort(_request_cancelled)
            body.fail(_request_cancelled)
            raise
        finally:
            pump.cancel()
            body.close(_request_finished)
        self._settle(response)

    def _settle(self, response: ResponseChannel) -> None:
        """Raise what the request ended with, unless it ended the way clients end them."""
        error = response.error
        send_error = response.send_error
        if send_error is not None:
            if not isinstance(send_error, OSError):
                raise send_error
            logger.debug("the server could not send the response: %r", send_error)
            if error is not None and not isinstance(error, ClientDisconnected):
                # Nobody can be answered any more, but the failure must not vanish.
                logger.error("WSGI application failed after its client went away", exc_info=error)
            return
        if error is not None:
            if self._disconnected and isinstance(error, ClientDisconnected):
                return
            if self._body_refused and isinstance(error, RequestBodyTooLarge):
                return
            raise error
        if self._receive_error is not None:
            raise self._receive_error

    async def _pump(self, receive: Receive, body: BodyChannel, response: ResponseChannel) -> None:
        """Feed the request body to the WSGI thread on demand, then watch for a disconnect."""
        limit = self.max_request_body_size
        received = 0
        try:
            while not body.eof:
                room = body.room()
                if room is not None:
                    await room
                    continue
                message = await receive()
                kind = message.get("type")
                if kind == "http.request":
                    chunk = message.get("body", b"")
                    if type(chunk) is not bytes:
                        chunk = _as_bytes(chunk, _REQUEST_CHUNK_ERROR)
                    received += len(chunk)
                    if limit is not None and received > limit:
                        self._refuse_body(body, response, limit)
                        return
                    body.feed(chunk, bool(message.get("more_body", False)))
                elif kind == "http.disconnect":
                    self._client_gone(body, response)
                    return
                else:
                    self._receive_error = _not_http_request()
                    body.fail(_not_http_request)
                    return
            # The body is complete. A server answers receive() again with http.disconnect
            # when the client leaves, which is the one way to learn a response is unwanted.
            message = await receive()
            if message.get("type") == "http.disconnect":
                self._client_gone(body, response)
        except Exception as exc:  # noqa: BLE001 - whatever receive() raised, reads must fail
            if body.eof:
                # Only the disconnect watch failed; the request itself is unaffected.
                logger.debug("receive() failed after the request body: %r", exc)
                return
            self._receive_error = exc
            body.fail(functools.partial(_receive_failed, exc))

    def _client_gone(self, body: BodyChannel, response: ResponseChannel) -> None:
        logger.debug("client disconnected; stopping the WSGI application's request")
        self._disconnected = True
        body.fail(_disconnected_while_reading)
        response.abort(_disconnected_while_sending)

    def _refuse_body(self, body: BodyChannel, response: ResponseChannel, limit: int) -> None:
        text = self._too_large_text(limit)

        def too_large() -> BaseException:
            return RequestBodyTooLarge(text.decode("ascii"))

        body.fail(too_large)
        self._body_refused = response.replace_unless_started(_plain_response(413, text), too_large)
        logger.info(
            "request body over %d bytes: %s",
            limit,
            "answered 413" if self._body_refused else "response already started",
        )

    @staticmethod
    def _too_large_text(limit: int) -> bytes:
        return f"Content Too Large: the request body is over the limit of {limit} bytes".encode()

    def build_environ(self, scope: Scope, body: Any) -> Environ:
        """Return the WSGI environ for ``scope``, with ``body`` as ``wsgi.input``."""
        return build_environ(scope, body, self.duplicate_header_limit)

    # ------------------------------------------------------------------ WSGI thread side

    def start_response(
        self,
        status: str,
        response_headers: Iterable[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Write:
        """PEP 3333 ``start_response``; returns the ``write()`` callable."""
        if self.response_started:
            if exc_info is not None and exc_info[1] is not None:
                # PEP 3333: once the head is sent, the application's error is re-raised.
                raise exc_info[1].with_traceback(exc_info[2])
            raise ValueError("You cannot call start_response a second time without exc_info")
        if exc_info is None and hasattr(self, "response_start"):
            raise ValueError("You cannot call start_response a second time without exc_info")
        code = parse_status(status)
        headers, length = encode_headers(response_headers)
        self.response_content_length = length
        self.response_start = {"type": "http.response.start", "status": code, "headers": headers}
        return self._write

    def _run(self, environ: Environ) -> None:
        """Run the application for one request; the last thing done is ``finish``/last put."""
        response = self._response
        try:
            try:
                self._respond(environ)
            except ResponseStartError:
                if self.response_started:
                    raise
                logger.exception(
                    "WSGI application %r gave start_response an invalid status or header; "
                    "answered 500",
                    self.wsgi_application,
                )
                self.response_started = True
                response.put(
                    _plain_response(500, b"Internal Server Error"), 0, starts=True, last=True
                )
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop, raised there
            response.finish(exc)

    def _respond(self, environ: Environ) -> None:
        result = self.wsgi_application(environ, self.start_response)
        if type(result) is list or type(result) is tuple:
            # Already in memory and nothing to close: queue the whole response in one go.
            messages: list[Message] = []
            starts = not self.response_started
            size = 0
            try:
                for chunk in cast("Iterable[object]", result):
                    framed, complete = self._frame(chunk, messages)
                    size += framed
                    if complete:
                        break
            except BaseException:
                # Send what came before the bad chunk, as the chunk-by-chunk path does.
                if messages:
                    self._response.put(messages, size, starts=starts, last=False)
                raise
            self._end(messages, size, starts)
            return
        try:
            try:
                chunks = iter(result)
            except TypeError:
                raise TypeError(
                    f"a WSGI application must return an iterable of bytes, got "
                    f"{type(result).__name__}"
                ) from None
            for chunk in chunks:
                if self._send(chunk):
                    break
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._end([], 0, not self.response_started)

    def _frame(self, chunk: object, messages: list[Message]) -> tuple[int, bool]:
        """Append the messages for one chunk; return (body bytes, content-length reached)."""
        data = chunk if type(chunk) is bytes else _as_bytes(chunk, _APP_CHUNK_ERROR)
        length = self.response_content_length
        if not self.response_started:
            messages.append(self.response_start)
            self.response_started = True
        elif length is not None and self._body_bytes >= length:
            return 0, True  # write() after the declared length: nothing more may go out
        if length is not None and len(data) > length - self._body_bytes:
            data = data[: length - self._body_bytes]
        self._body_bytes += len(data)
        messages.append({"type": "http.response.body", "body": data, "more_body": True})
        return len(data), length is not None and self._body_bytes >= length

    def _send(self, chunk: object) -> bool:
        """Queue one chunk (waiting while the client is behind); True once complete."""
        messages: list[Message] = []
        starts = not self.response_started
        size, complete = self._frame(chunk, messages)
        if messages:
            self._response.put(messages, size, starts=starts, last=False)
        return complete

    def _write(self, data: bytes) -> None:
        self._send(data)

    def _end(self, messages: list[Message], size: int, starts: bool) -> None:
        if not self.response_started:
            messages.append(self.response_start)
            self.response_started = True
        messages.append({"type": "http.response.body"})
        self._response.put(messages, size, starts=starts, last=True)


def _receive_failed(cause: BaseException) -> BaseException:
    error = ClientDisconnected(f"the ASGI server's receive() failed: {cause!r}")
    error.__cause__ = cause
    return error

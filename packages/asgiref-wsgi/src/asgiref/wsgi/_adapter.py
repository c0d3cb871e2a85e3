"""``WsgiToAsgi``: serve a WSGI application from an ASGI server.

A request goes through three steps, all driven by the ASGI call's own task:

1. On the event loop, the body is received until it is complete or ``PREBUFFER_BYTES``
   long. Nothing is sent and no thread is used before the first ``http.request``.
2. The application runs through ``asgiref.sync.sync_to_async`` (thread-sensitive), in a
   ``ThreadSensitiveContext`` of its own unless the caller is already in one, so it sees
   what any ``sync_to_async`` function sees: the caller's context variables and
   ``asgiref.local.Local`` values (and its changes flow back), and ``async_to_sync``
   inside it runs on the server's event loop. Reading more of the body is an
   ``async_to_sync`` hop back to that loop; a streamed chunk is handed to it and sent
   while the application makes the next (``_sending.SendWindow``; in a trio run, a hop).
3. What the application produced in its last step (for a list response: everything)
   comes back as the thread's return value and is sent on the loop without a hop.

Once the body is complete a watcher task waits for ``http.disconnect``; if it comes after
the response started, the next hop raises ``ClientDisconnected`` in the application's
thread, so a streamed response stops and its ``close()`` runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Awaitable, Coroutine, Iterable
from typing import Any, TypeVar, cast

from asgiref.sync import AsyncToSync, SyncToAsync, ThreadSensitiveContext, async_to_sync

from ._admission import ConcurrencyLimit, shared_limit
from ._bytes import as_bytes
from ._environ import build_environ
from ._errors import ClientDisconnected, RequestBodyTooLarge
from ._other_scopes import answer_lifespan, refuse_websocket
from ._receiving import PREBUFFER_BYTES, REFILL_BYTES, RequestReceiver, too_large_text
from ._request_body import Fetched, PulledBody, RequestBody
from ._response_start import ResponseStartError, encode_headers, parse_status
from ._sending import ResponseSender, SendWindow, ServerTask
from ._types import Environ, Message, OptExcInfo, Receive, Scope, Send, Write, WSGIApplication

logger = logging.getLogger("asgiref.wsgi")
_T = TypeVar("_T")


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


def _disconnected_while_sending() -> BaseException:
    return ClientDisconnected("the client disconnected before the response was complete")


def _caller_chose_a_thread() -> bool:
    """True inside a ``ThreadSensitiveContext`` or an ``async_to_sync`` call.

    There thread-sensitive calls already have a thread chosen by the caller (that
    context's, or the sync thread waiting in ``async_to_sync``), and the application
    runs on it, one request at a time, as the published adapter runs it.
    """
    if SyncToAsync.thread_sensitive_context.get(None) is not None:
        return True
    return getattr(AsyncToSync.executors, "current", None) is not None


class WsgiToAsgi:
    """Wrap a WSGI application so an ASGI server can serve it.

    ``duplicate_header_limit`` caps how often one request header may repeat (None or 0:
    no cap); a request over it is answered ``400``. ``max_workers`` bounds how many
    requests of this adapter run the application at once (default: at most
    ``DEFAULT_MAX_WORKERS``, shared by every adapter without a bound of its own).
    ``max_request_body_size`` answers ``413`` to requests whose body is larger
    (default: no limit).
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
        self._limit = shared_limit() if max_workers is None else ConcurrencyLimit(max_workers)

    @property
    def max_workers(self) -> int:
        """How many requests run the application at once; later ones wait their turn."""
        return self._limit.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = WsgiToAsgiInstance(
            self.wsgi_application,
            self.duplicate_header_limit,
            max_request_body_size=self.max_request_body_size,
            concurrency_limit=self._limit,
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
        concurrency_limit: ConcurrencyLimit | None = None,
    ) -> None:
        # concurrency_limit is how WsgiToAsgi hands over its bound; alone, the shared one.
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self.max_request_body_size = _checked_body_limit(max_request_body_size)
        self.response_started = False
        self.response_content_length: int | None = None
        self._limit = shared_limit() if concurrency_limit is None else concurrency_limit
        self._body_bytes = 0
        self._body_refused = False
        self._cancelled = False
        self._replacement: list[Message] = []
        self._watcher: ServerTask[None] | None = None
        # In a trio run, the server tasks of this request still referenced (those the
        # WSGI thread's hop awaits among them); None under asyncio, where cancelling
        # the request cancels the hop and so the task it awaits.
        self._trio_tasks: weakref.WeakSet[ServerTask[Any]] | None = None
        self._streaming = False
        # The WSGI thread's ways to the loop: streamed batches go through the window
        # under asyncio, through a bridge made when first needed in a trio run.
        self._window: SendWindow | None = None
        self._pusher: AsyncToSync[[list[Message]], None] | None = None
        self._fetcher: AsyncToSync[[], Fetched] | None = None

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

        self._server_context = contextvars.copy_context()
        receiver = self._receiver = RequestReceiver(receive, self.max_request_body_size)
        self._on_callers_thread = _caller_chose_a_thread()
        if self._on_callers_thread:
            # The application runs on the caller's thread, which waits in its hops while
            # the server's send() and receive() run: they run in the hop's own context, as
            # published, so thread-sensitive work in them comes back to that thread.
            self._sender = ResponseSender(send, _itself)
        else:
            self._sender = ResponseSender(send, self._in_server_context)
            loop = _get_running_loop()
            if loop is not None:
                self._window = SendWindow(
                    self._sender, loop, self._server_context, self._streaming_started
                )
        try:
            first_part = await receiver.read(PREBUFFER_BYTES)
        except (ClientDisconnected, RequestBodyTooLarge):
            await self._answer_unread_request(receiver, send)
            return
        body = self._body = PulledBody(self._fetch_body)
        body.add(first_part, receiver.complete)
        try:
            environ = self.build_environ(scope, RequestBody(body))
        except ValueError as exc:
            logger.info("answered 400 to a request that cannot be handed to WSGI: %s", exc)
            await _answer(send, 400, b"Bad Request: Too many duplicate headers")
            return
        limit = self.max_request_body_size
        declared = _declared_length(environ)
        if limit is not None and declared is not None and declared > limit:
            logger.info("answered 413: Content-Length %d is over %d", declared, limit)
            await _answer(send, 413, too_large_text(limit))
            return

        try:
            await self._respond_in_thread(environ)
        finally:
            body.close(_request_finished)
            if self._watcher is not None:
                self._watcher.cancel()
        if receiver.protocol_error is not None:
            raise receiver.protocol_error

    async def _answer_unread_request(self, receiver: RequestReceiver, send: Send) -> None:
        """The body could not be read before the application started: no app call."""
        if receiver.protocol_error is not None:
            raise receiver.protocol_error
        if receiver.too_large:
            logger.info("request body over %s bytes: answered 413", self.max_request_body_size)
            await _answer(send, 413, too_large_text(self.max_request_body_size))
            return
        logger.debug("client disconnected before its request body was complete")

    async def _respond_in_thread(self, environ: Environ) -> None:
        """Run the application in a thread (see the module docstring) and settle."""
        sender = self._sender
        error: Exception | None = None
        try:
            if self._on_callers_thread:
                tail = await self._serve_in_thread(environ)
            else:
                async with self._limit.semaphore(), ThreadSensitiveContext():
                    tail = await self._serve_in_thread(environ)
        except Exception as exc:  # noqa: BLE001 - settled below
            error = exc
            tail = []
        self._settle(error)
        if self._body_refused:
            await self._after_the_application(sender.send_instead(self._replacement))
        elif sender.stopped is None:
            await self._after_the_application(sender.send_all(tail))

    async def _serve_in_thread(self, environ: Environ) -> list[Message]:
        try:
            return await _serve(self, environ)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                # Cancelled: the thread's next hop must fail at once, because leaving
                # the ThreadSensitiveContext waits for the thread to finish.
                self._sender.stop(_request_cancelled)
                self._body.close(_request_cancelled)
                # And its current one: under trio the cancelled await has abandoned the
                # thread, whose hop would wait on its server task (a send the client
                # never drains, a receive that never comes) for as long as that takes.
                for task in list(self._trio_tasks or ()):
                    task.cancel()
                if self._window is not None:
                    self._window.cancel()
            raise

    def _settle(self, error: Exception | None) -> None:
        """Raise what the application ended with, unless it ended the way clients end them."""
        sender = self._sender
        send_error = sender.send_error
        if send_error is not None:
            if not isinstance(send_error, OSError):
                raise send_error
            logger.debug("the server could not send the response: %r", send_error)
            if error is not None and not isinstance(error, ClientDisconnected):
                # Nobody can be answered any more, but the failure must not vanish.
                logger.error("WSGI application failed after its client went away", exc_info=error)
            return
        if error is None:
            return
        if isinstance(error, ClientDisconnected) and sender.stopped is _disconnected_while_sending:
            return
        if isinstance(error, (ClientDisconnected, RequestBodyTooLarge)) and (
            self._receiver.disconnected or self._receiver.too_large
        ):
            return
        raise error

    def _watch_for_disconnect(self) -> None:
        """Watch for http.disconnect once the response streams and the body is read.

        Not before: a response sent in one go (a list) is sent in full anyway, as the
        published adapter does, so watching would only cost a task per request.
        """
        if self._watcher is None and self._streaming and self._receiver.complete:
            self._watcher = self._in_server_context(self._disconnect_watch())

    def _streaming_started(self) -> None:
        """On the loop, as a streamed batch is sent: from now on, watch for a disconnect."""
        self._streaming = True
        self._watch_for_disconnect()

    async def _deliver(self, messages: list[Message]) -> None:
        """The WSGI thread's hop for a streamed batch, in a trio run."""
        self._streaming_started()
        await self._sender.deliver(messages)

    def _in_server_context(self, coroutine: Coroutine[Any, Any, _T]) -> ServerTask[_T]:
        """A task that talks to the server in the context the ASGI call came with.

        The thread's hops run in its context, which holds the bridge's bookkeeping for
        this request (the waiting thread, the ThreadSensitiveContext). Callbacks the
        server schedules inside receive() or send() copy the current context, and
        uvicorn starts the connection's next request from such a callback: that
        request must not inherit this one's threads.
        """
        loop = _get_running_loop()
        if loop is None:
            # In a trio run (hypercorn's trio worker): a system task in that context.
            from . import _trio_support  # imported by trio users only

            task = _trio_support.TrioServerTask(coroutine, self._server_context)
            if self._trio_tasks is None:
                self._trio_tasks = weakref.WeakSet()
            self._trio_tasks.add(task)
            return task
        return self._server_context.run(loop.create_task, coroutine)

    async def _after_the_application(self, sending: Coroutine[Any, Any, None]) -> None:
        """Send the last messages in the context the ASGI call came with.

        By now ``sync_to_async`` has copied the application's context variables (its
        ``Local`` values too) back into this task, as it does for any caller. A server
        that starts the connection's next request from a callback scheduled inside
        send() (uvicorn does, when the response completes with reading paused) would
        hand them to that request, whose application would see this one's values.
        """
        if _get_running_loop() is None:
            # A trio run schedules no callbacks in the caller's context.
            await sending
            return
        await self._in_server_context(sending)

    async def _fetch_more(self) -> Fetched:
        """The WSGI thread's hop for more of the body."""
        reading = self._read_more()
        if self._on_callers_thread:
            return await reading  # in the hop's context: see __call__
        return await self._in_server_context(reading)

    async def _disconnect_watch(self) -> None:
        """After the body, a server answers receive() with http.disconnect if the client left."""
        try:
            message = await self._receiver.receive_after_body()
        except Exception as exc:  # noqa: BLE001 - only the watch failed; the request goes on
            logger.debug("receive() failed after the request body: %r", exc)
            return
        if message.get("type") != "http.disconnect":
            return
        if self._sender.start_sent:
            logger.debug("client disconnected; stopping the WSGI application's response")
            self._sender.stop(_disconnected_while_sending)
        else:
            # Perhaps only half-closed: like the published adapter, answer in full.
            logger.debug("client disconnected before the response started; sending it anyway")

    async def _read_more(self) -> Fetched:
        """The WSGI thread's hop for more body: receive the next part, on the loop."""
        receiver = self._receiver
        try:
            chunks = await receiver.read(REFILL_BYTES)
        except RequestBodyTooLarge:
            self._refuse_body()
            raise
        except ClientDisconnected:
            if receiver.disconnected:
                logger.debug("client disconnected while the application read the body")
                self._sender.stop(_disconnected_while_sending)
            raise
        self._watch_for_disconnect()
        return chunks, receiver.complete

    def _refuse_body(self) -> None:
        limit = self.max_request_body_size
        if self._sender.start_sent:
            logger.info("request body over %s bytes after the response started", limit)
            return
        text = too_large_text(limit)
        self._replacement = _plain_response(413, text)
        self._body_refused = True
        self._sender.stop(lambda: RequestBodyTooLarge(text.decode("ascii")))
        logger.info("request body over %s bytes: answered 413", limit)

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

    def serve(self, environ: Environ) -> list[Message]:
        """Run the application; return the messages still to send (its last step's)."""
        try:
            messages = self._respond(environ)
        except ResponseStartError:
            if self.response_started:
                raise
            logger.exception(
                "WSGI application %r gave start_response an invalid status or header; answered 500",
                self.wsgi_application,
            )
            self.response_started = True
            messages = _plain_response(500, b"Internal Server Error")
        finally:
            if self._window is not None:
                # Nothing of this response is sent behind the thread's back.
                self._window.settle()
            if self._cancelled:
                # The application saw ClientDisconnected; the bridge must see the
                # cancellation, or it would take the call as completed.
                raise asyncio.CancelledError
        return messages

    def _respond(self, environ: Environ) -> list[Message]:
        result = self.wsgi_application(environ, self.start_response)
        if type(result) is list or type(result) is tuple:
            # Already in memory and nothing to close: the whole response in one batch.
            messages: list[Message] = []
            try:
                for chunk in cast("Iterable[object]", result):
                    if self._frame(chunk, messages):
                        break
            except BaseException:
                # Send what came before the bad chunk, as the chunk-by-chunk path does.
                if messages:
                    self._push(messages)
                raise
            return self._end(messages)
        try:
            try:
                chunks = iter(result)
            except TypeError:
                raise TypeError(
                    f"a WSGI application must return an iterable of bytes, got "
                    f"{type(result).__name__}"
                ) from None
            for chunk in chunks:
                if self._send_chunk(chunk):
                    break
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return self._end([])

    def _frame(self, chunk: object, messages: list[Message]) -> bool:
        """Append the messages for one chunk; True once the content length is reached."""
        data = chunk if type(chunk) is bytes else as_bytes(chunk, _APP_CHUNK_ERROR)
        length = self.response_content_length
        if not self.response_started:
            messages.append(self.response_start)
            self.response_started = True
        elif length is not None and self._body_bytes >= length:
            return True  # write() after the declared length: nothing more may go out
        if length is not None and len(data) > length - self._body_bytes:
            data = data[: length - self._body_bytes]
        self._body_bytes += len(data)
        messages.append({"type": "http.response.body", "body": data, "more_body": True})
        return length is not None and self._body_bytes >= length

    def _send_chunk(self, chunk: object) -> bool:
        """Send one chunk (waiting while the client is behind); True once complete."""
        messages: list[Message] = []
        complete = self._frame(chunk, messages)
        if messages:
            self._push(messages)
        return complete

    def _write(self, data: bytes) -> None:
        self._send_chunk(data)

    def _end(self, messages: list[Message]) -> list[Message]:
        if self._window is not None:
            self._window.finish()  # the last streamed batch goes out before these
        if not self.response_started:
            messages.append(self.response_start)
            self.response_started = True
        messages.append({"type": "http.response.body"})
        return messages

    def _push(self, messages: list[Message]) -> None:
        """Send a batch from the WSGI thread, once the one before it was sent."""
        window = self._window
        if window is not None:
            window.hand_over(messages)
            return
        push = self._pusher
        if push is None:
            push = self._pusher = async_to_sync(self._deliver)
        try:
            push(messages)
        except asyncio.CancelledError:
            # The ASGI call was cancelled while this thread waited on the loop.
            self._cancelled = True
            raise _request_cancelled() from None

    def _fetch_body(self) -> Fetched:
        """``PulledBody``'s fetch: a hop to the loop for the next part of the body."""
        fetch = self._fetcher
        if fetch is None:
            fetch = self._fetcher = async_to_sync(self._fetch_more)
        try:
            return fetch()
        except asyncio.CancelledError:
            self._cancelled = True
            raise _request_cancelled() from None


def _itself(awaitable: Awaitable[_T]) -> Awaitable[_T]:
    return awaitable


async def _answer(send: Send, status: int, body: bytes) -> None:
    """Answer without the application (400, 413)."""
    for message in _plain_response(status, body):
        await send(message)


def _serve_request(instance: WsgiToAsgiInstance, environ: Environ) -> list[Message]:
    return instance.serve(environ)


# Thread-sensitive, as the published adapter's run_wsgi_app: the caller decides the thread.
_serve = SyncToAsync(_serve_request)

"""``AsgiToWsgi``: serve an ASGI application from a WSGI server."""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Literal, cast

from asgiref.compatibility import guarantee_single_callable
from asgiref.sync import LoopThread

from ._asgi_call import AsgiCall, Ended, ResponsePiece, logger
from ._asgi_lifespan import Lifespan, LifespanFailed
from ._asgi_scope import http_scope
from ._types import Environ

LifespanMode = Literal["auto", "on", "off"]

_ERROR_BODY = b"Internal Server Error"
_ERROR_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_ERROR_BODY))),
]

# Adapters whose lifespan may need a shutdown at interpreter exit.
_with_lifespan: weakref.WeakSet[AsgiToWsgi] = weakref.WeakSet()
_every_adapter: weakref.WeakSet[AsgiToWsgi] = weakref.WeakSet()


class AsgiToWsgi:
    """A PEP 3333 application that serves an ASGI (3, or 2) application.

    Each request runs the application as a task on one event loop, in a thread of its
    own (an :class:`asgiref.sync.LoopThread`, started on the first request, or the one
    given), in a fresh ``contextvars`` context, exactly as under an ASGI server. The
    request body is streamed from ``wsgi.input`` and the response to the WSGI server,
    both in bounded memory. With ``lifespan`` ``"auto"`` (default) or ``"on"``, the
    lifespan startup runs before the first request a loop serves and its ``state`` is
    copied into each request's scope; shutdown runs at :meth:`close` or interpreter exit.
    """

    def __init__(
        self,
        application: Any,
        *,
        loop_thread: LoopThread | None = None,
        lifespan: LifespanMode = "auto",
        shutdown_timeout: float = 10.0,
    ) -> None:
        if not callable(application):
            raise TypeError(
                f"AsgiToWsgi needs an ASGI application (a callable), not {application!r}"
            )
        _check_loop_thread(loop_thread)
        if lifespan not in ("auto", "on", "off"):
            raise ValueError(
                f"AsgiToWsgi: lifespan must be 'auto', 'on' or 'off', not {lifespan!r}"
            )
        _check_timeout(shutdown_timeout)
        self.application = guarantee_single_callable(application)
        self._owns_loop_thread = loop_thread is None
        self.loop_thread = (
            loop_thread if loop_thread is not None else LoopThread("asgiref-asgi-to-wsgi")
        )
        self._lifespan_mode = lifespan
        self._shutdown_timeout = float(shutdown_timeout)
        self._lifespan_lock = threading.Lock()
        # The loop the current lifespan belongs to; another loop (a forked child's) starts
        # its own. Set last, after the state it guards.
        self._lifespan_loop: object = None
        self._lifespan: Lifespan | None = None
        self._lifespan_pid = 0
        self._lifespan_error: str | None = None
        self._closed = False
        _every_adapter.add(self)

    def __call__(self, environ: Environ, start_response: Any) -> Iterable[bytes]:
        if self._closed:
            raise RuntimeError("AsgiToWsgi.close() was called; this adapter serves no more")
        scope, facts = http_scope(environ)
        loop = self.loop_thread.loop
        if self._lifespan_loop is not loop:
            self._start_lifespan(loop)
        if self._lifespan_error is not None:
            logger.error("AsgiToWsgi: not serving, %s", self._lifespan_error)
            return _internal_error(start_response)
        lifespan = self._lifespan
        if lifespan is not None and lifespan.supported:
            scope["state"] = lifespan.state.copy()
        call = AsgiCall(self.application, scope, loop, facts)
        call.read_first_chunk()
        # A fresh context per request, as an ASGI server's per-connection task has.
        loop.call_soon_threadsafe(call.start, context=contextvars.Context())
        first = call.next_item()
        if type(first) is Ended:
            return _failed_before_start(call, first.error, start_response)
        piece = cast("ResponsePiece", first)
        start_response(piece.status_line, piece.headers)
        if piece.final:
            return [piece.body]
        return _ResponseBody(call, piece.body)

    def close(self, timeout: float | None = None) -> None:
        """Run the lifespan shutdown (if a startup ran in this process), then stop the loop
        thread if this adapter started it. Later requests raise ``RuntimeError``."""
        self._closed = True
        budget = self._shutdown_timeout if timeout is None else timeout
        lifespan = self._lifespan
        if lifespan is not None and self._lifespan_pid == os.getpid():
            self._lifespan = None
            try:
                self.loop_thread.run(lifespan.shutdown(), timeout=budget)
            except TimeoutError:
                logger.error("AsgiToWsgi: ASGI lifespan shutdown did not finish in %s s", budget)
        if self._owns_loop_thread:
            self.loop_thread.close(timeout=budget)

    def _start_lifespan(self, loop: object) -> None:
        with self._lifespan_lock:
            if self._lifespan_loop is loop:
                return  # another request thread ran it meanwhile
            self._lifespan = None
            self._lifespan_error = None
            if self._lifespan_mode != "off":
                lifespan = Lifespan(self.application, required=self._lifespan_mode == "on")
                try:
                    self.loop_thread.run(lifespan.startup())
                except LifespanFailed as exc:
                    logger.error("AsgiToWsgi: %s", exc)
                    self._lifespan_error = str(exc)
                self._lifespan = lifespan
                self._lifespan_pid = os.getpid()
                if lifespan.supported:
                    _with_lifespan.add(self)
            self._lifespan_loop = loop

    def _forget_lock_after_fork(self) -> None:
        self._lifespan_lock = threading.Lock()


class _ResponseBody(Iterator[bytes]):
    """The WSGI response iterable: yields the application's body as it is sent."""

    __slots__ = ("_call", "_done", "_first")

    def __init__(self, call: AsgiCall, first: bytes) -> None:
        self._call = call
        self._first = first
        self._done = False

    def __iter__(self) -> _ResponseBody:
        return self

    def __next__(self) -> bytes:
        first = self._first
        if first:
            self._first = b""
            return first
        if self._done:
            raise StopIteration
        call = self._call
        while True:
            item = call.next_item()
            if type(item) is ResponsePiece:
                piece = item
                if piece.final:
                    self._done = True
                    if piece.body:
                        return piece.body
                    raise StopIteration
                if piece.body:
                    return piece.body
                continue
            self._done = True
            error = cast("Ended", item).error
            if error is not None:
                # The response has started: all WSGI allows is to break the connection.
                raise error
            raise RuntimeError(
                "AsgiToWsgi: the ASGI application returned without completing its response "
                "(no http.response.body with more_body False)"
            )

    def close(self) -> None:
        self._done = True
        self._call.close()


def _check_loop_thread(loop_thread: object) -> None:
    if loop_thread is not None and not isinstance(loop_thread, LoopThread):
        raise TypeError(
            f"AsgiToWsgi: loop_thread must be an asgiref.sync.LoopThread or None, "
            f"not {loop_thread!r}"
        )


def _check_timeout(timeout: object) -> None:
    if type(timeout) not in (int, float) or not timeout >= 0:  # type: ignore[operator]
        raise ValueError(
            f"AsgiToWsgi: shutdown_timeout must be a number of seconds >= 0, not {timeout!r}"
        )


def _internal_error(start_response: Any) -> list[bytes]:
    start_response("500 Internal Server Error", list(_ERROR_HEADERS))
    return [_ERROR_BODY]


def _failed_before_start(
    call: AsgiCall, error: BaseException | None, start_response: Any
) -> list[bytes]:
    call.close()
    if error is None:
        logger.error(
            "AsgiToWsgi: the ASGI application returned without sending a response "
            "(http.response.start and a final http.response.body)"
        )
    else:
        logger.error(
            "AsgiToWsgi: the ASGI application raised before its response started", exc_info=error
        )
    return _internal_error(start_response)


def _shut_down_at_exit() -> None:
    for adapter in list(_with_lifespan):
        try:
            adapter.close()
        except Exception:  # noqa: BLE001 - exiting: report and go on with the next
            logger.exception("AsgiToWsgi: shutting down at exit failed")


def _forget_locks_after_fork() -> None:
    for adapter in list(_every_adapter):
        adapter._forget_lock_after_fork()  # pyright: ignore[reportPrivateUsage] - the fork hook


atexit.register(_shut_down_at_exit)
if hasattr(os, "register_at_fork"):  # not on Windows, where nothing forks
    os.register_at_fork(after_in_child=_forget_locks_after_fork)

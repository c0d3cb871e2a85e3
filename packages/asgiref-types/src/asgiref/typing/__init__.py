"""ASGI scope, message and application types for mypy and pyright (``asgiref.typing``).

Covers ASGI 3.0, HTTP and WebSocket 2.5, lifespan 2.0 (with its ``state``), TLS 0.2 and
every extension: WebSocket denial response, server push, zero-copy send, path send,
early hints, trailers and debug.

Names. ``__all__`` is the published asgiref 3.13.0 list, in its order. Importable beside
it and deliberately left out of it (so ``from asgiref.typing import *`` binds exactly
what it binds with the published asgiref):

* ``HTTPResponseDebugEvent``: unlisted in the published asgiref too.
* ``HTTPResponseZerocopysendEvent``, ``HTTPResponseEarlyHintEvent``, ``TLSExtension``
  (the value of ``scope["extensions"]["tls"]``; ``cast`` to it, since
  ``scope["extensions"]`` is typed, as published, as ``dict[str, dict[object, object]]``).
* Per protocol and direction: ``HTTPReceiveMessage``, ``HTTPSendMessage``,
  ``WebSocketReceiveMessage``, ``WebSocketSendMessage``, ``LifespanReceiveMessage``,
  ``LifespanSendMessage`` (unions: a ``...Message`` is anything that may travel that
  way, a ``...Event`` one message type), and the callables ``HTTPReceiveCallable``,
  ``HTTPSendCallable``, ``WebSocketReceiveCallable``, ``WebSocketSendCallable``,
  ``LifespanReceiveCallable``, ``LifespanSendCallable``. An application annotates its
  ``send`` with a per-protocol send callable and is handed the all-protocol
  ``ASGISendCallable`` without a cast; a server annotates the ``receive`` it builds for
  one protocol with a per-protocol receive callable and hands it on as an
  ``ASGIReceiveCallable``.

Optional keys. The spec makes many keys optional. ``NotRequired`` lets a writer leave a
key out, but makes pyright reject ``message["key"]`` for a reader (mypy does not check
such reads), so each key was judged by who reads it, and measured by type-checking real
code from PyPI that imports this module (uvicorn 0.17.6, undine 0.5.1, types-channels)
against the published types and against these:

* ``NotRequired``, as the spec says: the optional keys of the messages an application
  sends over HTTP and WebSocket, which applications write and servers must already
  read with a default: ``http.response.start`` ``headers`` and ``trailers``;
  ``http.response.body`` ``body`` and ``more_body``; ``http.response.trailers``
  ``more_trailers``; ``websocket.accept`` ``subprotocol`` and ``headers``;
  ``websocket.http.response.start`` ``headers``; ``websocket.http.response.body``
  ``body`` and ``more_body``; and the extension messages' optional keys. No real code
  checked read any of them unguarded; four of its errors went away.
* Added, ``NotRequired`` (missing from the published types, so nobody reads them yet):
  ``LifespanScope["extensions"]`` and ``websocket.http.response.start`` ``trailers``.
* Required, as published, although the spec makes them optional, because applications
  and servers read them by subscript and would fail pyright: every scope key
  (``scheme``, ``root_path``, ``client``, ``server``, ``raw_path``, ``extensions``,
  the WebSocket ``http_version``, ``query_string`` and ``subprotocols``,
  ``asgi["spec_version"]``), which applications read everywhere; the messages an
  application receives (``http.request`` ``body`` and ``more_body``,
  ``websocket.receive`` ``bytes`` and ``text``, ``websocket.disconnect`` ``reason``);
  and the sent keys that the real code reads (``websocket.send`` ``bytes`` and
  ``text``, ``websocket.close`` ``code`` and ``reason``, the lifespan ``failed``
  messages' ``message``). Making them all ``NotRequired`` added 14 pyright errors to
  that code. Writers of these messages supply the spec's default value instead.

Unions. ``ASGISendEvent`` keeps its published members, in order, and gains the send
messages it left out (path send, debug, zero-copy send, early hints), so every message
an application may send is accepted by ``ASGISendCallable``. It still lists
``HTTPDisconnectEvent``, a receive message, because removing a member would reject
code that passes one today. ``ASGIReceiveEvent`` already listed every receive message.
"""

from __future__ import annotations

from ._asgi import ASGI2Application as ASGI2Application
from ._asgi import ASGI2Protocol as ASGI2Protocol
from ._asgi import ASGI3Application as ASGI3Application
from ._asgi import ASGIApplication as ASGIApplication
from ._asgi import ASGIReceiveCallable as ASGIReceiveCallable
from ._asgi import ASGIReceiveEvent as ASGIReceiveEvent
from ._asgi import ASGISendCallable as ASGISendCallable
from ._asgi import ASGISendEvent as ASGISendEvent
from ._asgi import ASGIVersions as ASGIVersions
from ._asgi import HTTPDisconnectEvent as HTTPDisconnectEvent
from ._asgi import HTTPRequestEvent as HTTPRequestEvent
from ._asgi import HTTPResponseBodyEvent as HTTPResponseBodyEvent
from ._asgi import HTTPResponseDebugEvent as HTTPResponseDebugEvent
from ._asgi import HTTPResponsePathsendEvent as HTTPResponsePathsendEvent
from ._asgi import HTTPResponseStartEvent as HTTPResponseStartEvent
from ._asgi import HTTPResponseTrailersEvent as HTTPResponseTrailersEvent
from ._asgi import HTTPScope as HTTPScope
from ._asgi import HTTPServerPushEvent as HTTPServerPushEvent
from ._asgi import LifespanScope as LifespanScope
from ._asgi import LifespanShutdownCompleteEvent as LifespanShutdownCompleteEvent
from ._asgi import LifespanShutdownEvent as LifespanShutdownEvent
from ._asgi import LifespanShutdownFailedEvent as LifespanShutdownFailedEvent
from ._asgi import LifespanStartupCompleteEvent as LifespanStartupCompleteEvent
from ._asgi import LifespanStartupEvent as LifespanStartupEvent
from ._asgi import LifespanStartupFailedEvent as LifespanStartupFailedEvent
from ._asgi import Scope as Scope
from ._asgi import WebSocketAcceptEvent as WebSocketAcceptEvent
from ._asgi import WebSocketCloseEvent as WebSocketCloseEvent
from ._asgi import WebSocketConnectEvent as WebSocketConnectEvent
from ._asgi import WebSocketDisconnectEvent as WebSocketDisconnectEvent
from ._asgi import WebSocketReceiveEvent as WebSocketReceiveEvent
from ._asgi import WebSocketResponseBodyEvent as WebSocketResponseBodyEvent
from ._asgi import WebSocketResponseStartEvent as WebSocketResponseStartEvent
from ._asgi import WebSocketScope as WebSocketScope
from ._asgi import WebSocketSendEvent as WebSocketSendEvent
from ._asgi import WWWScope as WWWScope
from ._extensions import HTTPResponseEarlyHintEvent as HTTPResponseEarlyHintEvent
from ._extensions import HTTPResponseZerocopysendEvent as HTTPResponseZerocopysendEvent
from ._extensions import TLSExtension as TLSExtension
from ._per_protocol import HTTPReceiveCallable as HTTPReceiveCallable
from ._per_protocol import HTTPReceiveMessage as HTTPReceiveMessage
from ._per_protocol import HTTPSendCallable as HTTPSendCallable
from ._per_protocol import HTTPSendMessage as HTTPSendMessage
from ._per_protocol import LifespanReceiveCallable as LifespanReceiveCallable
from ._per_protocol import LifespanReceiveMessage as LifespanReceiveMessage
from ._per_protocol import LifespanSendCallable as LifespanSendCallable
from ._per_protocol import LifespanSendMessage as LifespanSendMessage
from ._per_protocol import WebSocketReceiveCallable as WebSocketReceiveCallable
from ._per_protocol import WebSocketReceiveMessage as WebSocketReceiveMessage
from ._per_protocol import WebSocketSendCallable as WebSocketSendCallable
from ._per_protocol import WebSocketSendMessage as WebSocketSendMessage

# The published order, not sorted, and a tuple as published: callers compare against it.
__all__ = (  # noqa: RUF022
    "ASGIVersions",
    "HTTPScope",
    "WebSocketScope",
    "LifespanScope",
    "WWWScope",
    "Scope",
    "HTTPRequestEvent",
    "HTTPResponseStartEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent",
    "HTTPResponsePathsendEvent",
    "HTTPServerPushEvent",
    "HTTPDisconnectEvent",
    "WebSocketConnectEvent",
    "WebSocketAcceptEvent",
    "WebSocketReceiveEvent",
    "WebSocketSendEvent",
    "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketDisconnectEvent",
    "WebSocketCloseEvent",
    "LifespanStartupEvent",
    "LifespanShutdownEvent",
    "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent",
    "LifespanShutdownCompleteEvent",
    "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent",
    "ASGISendEvent",
    "ASGIReceiveCallable",
    "ASGISendCallable",
    "ASGI2Protocol",
    "ASGI2Application",
    "ASGI3Application",
    "ASGIApplication",
)


def _report_public_module(names: tuple[str, ...]) -> None:
    """Make classes defined in the private modules report this public path, as in the
    published asgiref (reprs, pickles by reference, docs). The aliases (Union, Callable,
    type[...]) belong to typing or collections.abc and are left alone."""
    namespace = globals()
    for name in names:
        value = namespace[name]
        if getattr(value, "__module__", "").startswith(f"{__name__}._"):
            value.__module__ = __name__


_report_public_module(
    (
        *__all__,
        "HTTPResponseDebugEvent",
        "HTTPResponseZerocopysendEvent",
        "HTTPResponseEarlyHintEvent",
        "TLSExtension",
    )
)
del _report_public_module

"""The ASGI types asgiref 3.13.0 publishes: scopes, events, callables, applications.

Every ``TypedDict`` here uses the functional form (``Name = TypedDict("Name", {...})``)
on purpose. Under ``from __future__ import annotations`` the class form stores each
annotation as a string, and ``TypedDict`` (``typing``'s and ``typing_extensions``'s
alike, on every Python up to 3.13) then cannot see ``NotRequired`` inside it, so a key
such as ``HTTPScope["state"]`` would land in ``__required_keys__``. The functional form
evaluates its field types, so the runtime introspection (``__required_keys__``,
``__optional_keys__``, ``__annotations__``) matches the published asgiref, and mypy and
pyright read both forms the same way. Field order follows the ASGI specification.
"""

# ruff: noqa: UP013  (functional TypedDict form on purpose: see the module docstring)

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, Protocol, Union

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:
    # typing.TypedDict on 3.10 does not know NotRequired: both must come from one place.
    from typing_extensions import NotRequired, TypedDict

from ._extensions import HTTPResponseEarlyHintEvent, HTTPResponseZerocopysendEvent

# --- Scopes ---------------------------------------------------------------------------

ASGIVersions = TypedDict(
    "ASGIVersions",
    {
        "spec_version": str,
        "version": Literal["2.0"] | Literal["3.0"],
    },
)

HTTPScope = TypedDict(
    "HTTPScope",
    {
        "type": Literal["http"],
        "asgi": ASGIVersions,
        "http_version": str,
        "method": str,
        "scheme": str,
        "path": str,
        "raw_path": bytes,
        "query_string": bytes,
        "root_path": str,
        "headers": Iterable[tuple[bytes, bytes]],
        "client": tuple[str, int] | None,
        "server": tuple[str, int | None] | None,
        "state": NotRequired[dict[str, Any]],
        "extensions": dict[str, dict[object, object]] | None,
    },
)

WebSocketScope = TypedDict(
    "WebSocketScope",
    {
        "type": Literal["websocket"],
        "asgi": ASGIVersions,
        "http_version": str,
        "scheme": str,
        "path": str,
        "raw_path": bytes,
        "query_string": bytes,
        "root_path": str,
        "headers": Iterable[tuple[bytes, bytes]],
        "client": tuple[str, int] | None,
        "server": tuple[str, int | None] | None,
        "subprotocols": Iterable[str],
        "state": NotRequired[dict[str, Any]],
        "extensions": dict[str, dict[object, object]] | None,
    },
)

LifespanScope = TypedDict(
    "LifespanScope",
    {
        "type": Literal["lifespan"],
        "asgi": ASGIVersions,
        "state": NotRequired[dict[str, Any]],
        # Not in the published asgiref: the core spec lets every scope carry extensions.
        "extensions": NotRequired[dict[str, dict[object, object]] | None],
    },
)

# The aliases are typing.Union, not "|", as in the published asgiref: "|" between classes
# builds a types.UnionType before Python 3.14, which introspection code that checks
# typing.get_origin(alias) is typing.Union does not recognise.
WWWScope = Union[HTTPScope, WebSocketScope]  # noqa: UP007
Scope = Union[HTTPScope, WebSocketScope, LifespanScope]  # noqa: UP007

# --- HTTP events ----------------------------------------------------------------------

HTTPRequestEvent = TypedDict(
    "HTTPRequestEvent",
    {
        "type": Literal["http.request"],
        "body": bytes,
        "more_body": bool,
    },
)

# The published asgiref defines the debug extension's event but leaves it out of
# __all__ and out of ASGISendEvent; the facade keeps it importable and unlisted.
HTTPResponseDebugEvent = TypedDict(
    "HTTPResponseDebugEvent",
    {
        "type": Literal["http.response.debug"],
        "info": dict[str, object],
    },
)

HTTPResponseStartEvent = TypedDict(
    "HTTPResponseStartEvent",
    {
        "type": Literal["http.response.start"],
        "status": int,
        "headers": NotRequired[Iterable[tuple[bytes, bytes]]],
        "trailers": NotRequired[bool],
    },
)

HTTPResponseBodyEvent = TypedDict(
    "HTTPResponseBodyEvent",
    {
        "type": Literal["http.response.body"],
        "body": NotRequired[bytes],
        "more_body": NotRequired[bool],
    },
)

HTTPResponseTrailersEvent = TypedDict(
    "HTTPResponseTrailersEvent",
    {
        "type": Literal["http.response.trailers"],
        "headers": Iterable[tuple[bytes, bytes]],
        "more_trailers": NotRequired[bool],
    },
)

HTTPResponsePathsendEvent = TypedDict(
    "HTTPResponsePathsendEvent",
    {
        "type": Literal["http.response.pathsend"],
        "path": str,
    },
)

HTTPServerPushEvent = TypedDict(
    "HTTPServerPushEvent",
    {
        "type": Literal["http.response.push"],
        "path": str,
        "headers": Iterable[tuple[bytes, bytes]],
    },
)

HTTPDisconnectEvent = TypedDict(
    "HTTPDisconnectEvent",
    {
        "type": Literal["http.disconnect"],
    },
)

# --- WebSocket events -----------------------------------------------------------------

WebSocketConnectEvent = TypedDict(
    "WebSocketConnectEvent",
    {
        "type": Literal["websocket.connect"],
    },
)

WebSocketAcceptEvent = TypedDict(
    "WebSocketAcceptEvent",
    {
        "type": Literal["websocket.accept"],
        "subprotocol": NotRequired[str | None],
        "headers": NotRequired[Iterable[tuple[bytes, bytes]]],
    },
)

WebSocketReceiveEvent = TypedDict(
    "WebSocketReceiveEvent",
    {
        "type": Literal["websocket.receive"],
        "bytes": bytes | None,
        "text": str | None,
    },
)

WebSocketSendEvent = TypedDict(
    "WebSocketSendEvent",
    {
        "type": Literal["websocket.send"],
        "bytes": bytes | None,
        "text": str | None,
    },
)

WebSocketResponseStartEvent = TypedDict(
    "WebSocketResponseStartEvent",
    {
        "type": Literal["websocket.http.response.start"],
        "status": int,
        "headers": NotRequired[Iterable[tuple[bytes, bytes]]],
        # Not in the published asgiref: the denial response "matches http.response.start".
        "trailers": NotRequired[bool],
    },
)

WebSocketResponseBodyEvent = TypedDict(
    "WebSocketResponseBodyEvent",
    {
        "type": Literal["websocket.http.response.body"],
        "body": NotRequired[bytes],
        "more_body": NotRequired[bool],
    },
)

WebSocketDisconnectEvent = TypedDict(
    "WebSocketDisconnectEvent",
    {
        "type": Literal["websocket.disconnect"],
        "code": int,
        "reason": str | None,
    },
)

WebSocketCloseEvent = TypedDict(
    "WebSocketCloseEvent",
    {
        "type": Literal["websocket.close"],
        "code": int,
        "reason": str | None,
    },
)

# --- Lifespan events ------------------------------------------------------------------

LifespanStartupEvent = TypedDict(
    "LifespanStartupEvent",
    {
        "type": Literal["lifespan.startup"],
    },
)

LifespanShutdownEvent = TypedDict(
    "LifespanShutdownEvent",
    {
        "type": Literal["lifespan.shutdown"],
    },
)

LifespanStartupCompleteEvent = TypedDict(
    "LifespanStartupCompleteEvent",
    {
        "type": Literal["lifespan.startup.complete"],
    },
)

LifespanStartupFailedEvent = TypedDict(
    "LifespanStartupFailedEvent",
    {
        "type": Literal["lifespan.startup.failed"],
        "message": str,
    },
)

LifespanShutdownCompleteEvent = TypedDict(
    "LifespanShutdownCompleteEvent",
    {
        "type": Literal["lifespan.shutdown.complete"],
    },
)

LifespanShutdownFailedEvent = TypedDict(
    "LifespanShutdownFailedEvent",
    {
        "type": Literal["lifespan.shutdown.failed"],
        "message": str,
    },
)

# --- What receive() returns and send() accepts ----------------------------------------

ASGIReceiveEvent = Union[  # noqa: UP007
    HTTPRequestEvent,
    HTTPDisconnectEvent,
    WebSocketConnectEvent,
    WebSocketReceiveEvent,
    WebSocketDisconnectEvent,
    LifespanStartupEvent,
    LifespanShutdownEvent,
]

# The published members first, in the published order, then every send event the
# published union leaves out (path send, debug, zero-copy send, early hints), so that a
# send() typed with it accepts every message an application may send and the
# per-protocol send unions are subsets of it. HTTPDisconnectEvent is a receive event and
# does not belong here, but it stays: code written against asgiref sends it through an
# ASGISendCallable (test doubles replaying events), and a server's send() typed with this
# union must stay assignable to applications annotated with the published callable.
ASGISendEvent = Union[  # noqa: UP007
    HTTPResponseStartEvent,
    HTTPResponseBodyEvent,
    HTTPResponseTrailersEvent,
    HTTPServerPushEvent,
    HTTPDisconnectEvent,
    WebSocketAcceptEvent,
    WebSocketSendEvent,
    WebSocketResponseStartEvent,
    WebSocketResponseBodyEvent,
    WebSocketCloseEvent,
    LifespanStartupCompleteEvent,
    LifespanStartupFailedEvent,
    LifespanShutdownCompleteEvent,
    LifespanShutdownFailedEvent,
    HTTPResponsePathsendEvent,
    HTTPResponseDebugEvent,
    HTTPResponseZerocopysendEvent,
    HTTPResponseEarlyHintEvent,
]

ASGIReceiveCallable = Callable[[], Awaitable[ASGIReceiveEvent]]
ASGISendCallable = Callable[[ASGISendEvent], Awaitable[None]]

# --- Applications ---------------------------------------------------------------------


class ASGI2Protocol(Protocol):
    """An ASGI 2 ("double callable") application: built from the scope, then awaited."""

    def __init__(self, scope: Scope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


ASGI2Application = type[ASGI2Protocol]
ASGI3Application = Callable[
    [Scope, ASGIReceiveCallable, ASGISendCallable],
    Awaitable[None],
]
ASGIApplication = Union[ASGI2Application, ASGI3Application]  # noqa: UP007

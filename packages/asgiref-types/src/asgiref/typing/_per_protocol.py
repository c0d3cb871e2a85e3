"""What travels each way on one protocol: message unions and callables per protocol.

The published asgiref has only the all-protocol unions (``ASGIReceiveEvent``,
``ASGISendEvent``). These narrower ones are new, and not in ``asgiref.typing.__all__``.

A ``...Event`` name is one message type; a ``...Message`` name is the union of every
message that may travel one way on one protocol (``WebSocketReceiveEvent`` is the
``websocket.receive`` message, ``WebSocketReceiveMessage`` anything ``receive()`` returns
on a WebSocket connection).

Which side uses which, given how callables are checked (arguments contravariant,
results covariant):

* An application types its ``send`` parameter with ``HTTPSendCallable`` (and so on): the
  all-protocol ``ASGISendCallable`` a server or a dispatching application holds is
  assignable to it, because every per-protocol send union is a subset of
  ``ASGISendEvent``.
* A server types the ``receive`` it builds for one protocol with ``HTTPReceiveCallable``
  (and so on): it is assignable to ``ASGIReceiveCallable``, so the server can hand it to
  any application. The converse needs a ``cast``: nothing in a plain
  ``ASGIReceiveCallable`` promises that only HTTP messages will come.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Union

from ._asgi import (
    HTTPDisconnectEvent,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseDebugEvent,
    HTTPResponsePathsendEvent,
    HTTPResponseStartEvent,
    HTTPResponseTrailersEvent,
    HTTPServerPushEvent,
    LifespanShutdownCompleteEvent,
    LifespanShutdownEvent,
    LifespanShutdownFailedEvent,
    LifespanStartupCompleteEvent,
    LifespanStartupEvent,
    LifespanStartupFailedEvent,
    WebSocketAcceptEvent,
    WebSocketCloseEvent,
    WebSocketConnectEvent,
    WebSocketDisconnectEvent,
    WebSocketReceiveEvent,
    WebSocketResponseBodyEvent,
    WebSocketResponseStartEvent,
    WebSocketSendEvent,
)
from ._extensions import HTTPResponseEarlyHintEvent, HTTPResponseZerocopysendEvent

# typing.Union rather than "|" for the reason given beside WWWScope in _asgi.
# ruff: noqa: UP007

HTTPReceiveMessage = Union[HTTPRequestEvent, HTTPDisconnectEvent]

# The core response messages, then every extension's, in the spec's extension order.
HTTPSendMessage = Union[
    HTTPResponseStartEvent,
    HTTPResponseBodyEvent,
    HTTPResponseTrailersEvent,
    HTTPServerPushEvent,
    HTTPResponseZerocopysendEvent,
    HTTPResponsePathsendEvent,
    HTTPResponseEarlyHintEvent,
    HTTPResponseDebugEvent,
]

WebSocketReceiveMessage = Union[
    WebSocketConnectEvent,
    WebSocketReceiveEvent,
    WebSocketDisconnectEvent,
]

# The two denial-response messages come from the websocket.http.response extension.
WebSocketSendMessage = Union[
    WebSocketAcceptEvent,
    WebSocketSendEvent,
    WebSocketCloseEvent,
    WebSocketResponseStartEvent,
    WebSocketResponseBodyEvent,
]

LifespanReceiveMessage = Union[LifespanStartupEvent, LifespanShutdownEvent]

LifespanSendMessage = Union[
    LifespanStartupCompleteEvent,
    LifespanStartupFailedEvent,
    LifespanShutdownCompleteEvent,
    LifespanShutdownFailedEvent,
]

HTTPReceiveCallable = Callable[[], Awaitable[HTTPReceiveMessage]]
HTTPSendCallable = Callable[[HTTPSendMessage], Awaitable[None]]
WebSocketReceiveCallable = Callable[[], Awaitable[WebSocketReceiveMessage]]
WebSocketSendCallable = Callable[[WebSocketSendMessage], Awaitable[None]]
LifespanReceiveCallable = Callable[[], Awaitable[LifespanReceiveMessage]]
LifespanSendCallable = Callable[[LifespanSendMessage], Awaitable[None]]

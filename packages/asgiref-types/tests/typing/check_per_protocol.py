"""Per-protocol unions and callables, and the spec-optional keys: must type-check cleanly.

Checked by mypy --strict and pyright strict, never executed.
"""

from __future__ import annotations

import sys
from typing import IO, cast

from asgiref.typing import (
    ASGIReceiveCallable,
    ASGISendCallable,
    ASGISendEvent,
    HTTPDisconnectEvent,
    HTTPReceiveCallable,
    HTTPReceiveMessage,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseDebugEvent,
    HTTPResponsePathsendEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    HTTPSendCallable,
    HTTPSendMessage,
    LifespanReceiveCallable,
    LifespanScope,
    LifespanSendCallable,
    LifespanStartupFailedEvent,
    WebSocketAcceptEvent,
    WebSocketCloseEvent,
    WebSocketReceiveCallable,
    WebSocketReceiveEvent,
    WebSocketReceiveMessage,
    WebSocketScope,
    WebSocketSendCallable,
    WebSocketSendMessage,
)

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


async def http_app(scope: HTTPScope, receive: ASGIReceiveCallable, send: HTTPSendCallable) -> None:
    event = await receive()
    if event["type"] == "http.request":
        # Kept required (applications read them by subscript).
        assert_type(event["body"], bytes)
        assert_type(event["more_body"], bool)
    # The spec's optional keys may be left out of what an application sends.
    await send({"type": "http.response.start", "status": 204})
    await send({"type": "http.response.body"})
    await send({"type": "http.response.pathsend", "path": "/srv/index.html"})
    await send({"type": "http.response.debug", "info": {"template": "index.html"}})


async def websocket_app(
    scope: WebSocketScope, receive: ASGIReceiveCallable, send: WebSocketSendCallable
) -> None:
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "bytes": None, "text": "hello"})
    await send({"type": "websocket.close", "code": 1000, "reason": None})


async def lifespan_app(
    scope: LifespanScope, receive: LifespanReceiveCallable, send: LifespanSendCallable
) -> None:
    assert_type(scope.get("extensions"), dict[str, dict[object, object]] | None)
    event = await receive()
    if event["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.complete"})


async def dispatch(
    scope: HTTPScope | WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    # The all-protocol send callable is a per-protocol one: no cast.
    if scope["type"] == "http":
        await http_app(scope, receive, send)
    else:
        await websocket_app(scope, receive, send)


async def server_receive() -> HTTPReceiveMessage:
    return {"type": "http.disconnect"}


async def server_send(message: ASGISendEvent) -> None:
    """A server's send(): it reads the optional keys with their spec defaults."""
    if message["type"] == "http.response.start":
        assert_type(message, HTTPResponseStartEvent)
        headers = list(message.get("headers", []))
        del headers
    elif message["type"] == "http.response.body":
        assert_type(message, HTTPResponseBodyEvent)
        assert_type(message.get("body", b""), bytes)
        assert_type(message.get("more_body", False), bool)
    elif message["type"] == "http.response.pathsend":
        assert_type(message, HTTPResponsePathsendEvent)
    elif message["type"] == "http.response.debug":
        assert_type(message, HTTPResponseDebugEvent)
    elif message["type"] == "websocket.accept":
        assert_type(message, WebSocketAcceptEvent)
        assert_type(message.get("subprotocol"), str | None)
    elif message["type"] == "websocket.close":
        assert_type(message, WebSocketCloseEvent)
        assert_type(message["code"], int)
    elif message["type"] == "lifespan.startup.failed":
        assert_type(message, LifespanStartupFailedEvent)
        assert_type(message["message"], str)


# A server's receive for one protocol is an all-protocol receive callable.
receive_for_apps: ASGIReceiveCallable = server_receive
http_receive: HTTPReceiveCallable = server_receive
send_for_apps: ASGISendCallable = server_send
http_send: HTTPSendCallable = server_send
websocket_send: WebSocketSendCallable = server_send


async def narrow_receive(receive: WebSocketReceiveCallable) -> None:
    event = await receive()
    assert_type(event, WebSocketReceiveMessage)
    if event["type"] == "websocket.receive":
        assert_type(event, WebSocketReceiveEvent)
        assert_type(event["text"], str | None)


def http_messages(request: HTTPRequestEvent, disconnect: HTTPDisconnectEvent) -> None:
    incoming: list[HTTPReceiveMessage] = [request, disconnect]
    outgoing: list[HTTPSendMessage] = [{"type": "http.response.start", "status": 200}]
    also_ws: list[WebSocketSendMessage] = [{"type": "websocket.http.response.start", "status": 403}]
    del incoming, outgoing, also_ws


def from_plain_receive(receive: ASGIReceiveCallable) -> HTTPReceiveCallable:
    # Nothing in a plain receive callable promises HTTP messages only: a cast says so.
    return cast(HTTPReceiveCallable, receive)


def zero_copy(file: IO[bytes], send: HTTPSendCallable) -> object:
    return send({"type": "http.response.zerocopysend", "file": file, "count": 1024})

"""Correct ASGI applications annotated with asgiref.typing: must type-check cleanly.

Checked by mypy --strict and pyright strict, never executed. Each assert_type pins what
the checkers infer from the published types, so a change to a field type fails here.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Iterable
from typing import IO, Any, Literal

from asgiref.typing import (
    ASGI2Application,
    ASGI2Protocol,
    ASGI3Application,
    ASGIApplication,
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    ASGIVersions,
    HTTPDisconnectEvent,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseEarlyHintEvent,
    HTTPResponseStartEvent,
    HTTPResponseZerocopysendEvent,
    HTTPScope,
    LifespanScope,
    LifespanShutdownCompleteEvent,
    LifespanStartupCompleteEvent,
    LifespanStartupFailedEvent,
    Scope,
    TLSExtension,
    WebSocketAcceptEvent,
    WebSocketCloseEvent,
    WebSocketDisconnectEvent,
    WebSocketReceiveEvent,
    WebSocketScope,
    WebSocketSendEvent,
    WWWScope,
)

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


async def http_app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    assert_type(scope["type"], Literal["http"])
    assert_type(scope["asgi"], ASGIVersions)
    assert_type(scope["asgi"]["version"], Literal["2.0", "3.0"])
    assert_type(scope["method"], str)
    assert_type(scope["raw_path"], bytes)
    assert_type(scope["headers"], Iterable[tuple[bytes, bytes]])
    assert_type(scope["client"], tuple[str, int] | None)
    assert_type(scope["server"], tuple[str, int | None] | None)
    assert_type(scope["extensions"], dict[str, dict[object, object]] | None)
    # state is NotRequired: get() may miss it, indexing is fine once "in" has narrowed.
    assert_type(scope.get("state"), dict[str, Any] | None)
    if "state" in scope:
        assert_type(scope["state"], dict[str, Any])

    body = b""
    while True:
        event = await receive()
        assert_type(event, ASGIReceiveEvent)
        if event["type"] == "http.disconnect":
            assert_type(event, HTTPDisconnectEvent)
            return
        if event["type"] == "http.request":
            assert_type(event, HTTPRequestEvent)
            assert_type(event["body"], bytes)
            body += event["body"]
            if not event["more_body"]:
                break

    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/octet-stream")],
        "trailers": False,
    }
    await send(start)
    chunk: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(chunk)


async def websocket_app(
    scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    assert_type(scope["type"], Literal["websocket"])
    assert_type(scope["subprotocols"], Iterable[str])
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            accept: WebSocketAcceptEvent = {
                "type": "websocket.accept",
                "subprotocol": next(iter(scope["subprotocols"]), None),
                "headers": [],
            }
            await send(accept)
        elif event["type"] == "websocket.receive":
            assert_type(event, WebSocketReceiveEvent)
            assert_type(event["text"], str | None)
            assert_type(event["bytes"], bytes | None)
            echo: WebSocketSendEvent = {
                "type": "websocket.send",
                "bytes": event["bytes"],
                "text": event["text"],
            }
            await send(echo)
        elif event["type"] == "websocket.disconnect":
            assert_type(event, WebSocketDisconnectEvent)
            assert_type(event["code"], int)
            assert_type(event["reason"], str | None)
            return
        else:
            close: WebSocketCloseEvent = {"type": "websocket.close", "code": 1011, "reason": None}
            await send(close)
            return


async def lifespan_handler(
    scope: LifespanScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    assert_type(scope["type"], Literal["lifespan"])
    assert_type(scope.get("state"), dict[str, Any] | None)
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            if "state" in scope:
                scope["state"]["started"] = True
                complete: LifespanStartupCompleteEvent = {"type": "lifespan.startup.complete"}
                await send(complete)
            else:
                failed: LifespanStartupFailedEvent = {
                    "type": "lifespan.startup.failed",
                    "message": "this server does not support lifespan state",
                }
                await send(failed)
                return
        elif event["type"] == "lifespan.shutdown":
            done: LifespanShutdownCompleteEvent = {"type": "lifespan.shutdown.complete"}
            await send(done)
            return


async def application(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Dispatch on the scope's type: the "type" literal narrows the Scope union."""
    if scope["type"] == "http":
        assert_type(scope, HTTPScope)
        await http_app(scope, receive, send)
    elif scope["type"] == "websocket":
        assert_type(scope, WebSocketScope)
        await websocket_app(scope, receive, send)
    else:
        assert_type(scope, LifespanScope)
        await lifespan_handler(scope, receive, send)


def www_only(scope: WWWScope) -> str:
    # Both members of WWWScope carry the connection's path and headers.
    assert_type(scope["path"], str)
    return scope["path"]


class LegacyApplication:
    """An ASGI 2 application: constructed with the scope, then called with the channels."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await application(self.scope, receive, send)


asgi3: ASGI3Application = application
asgi2: ASGI2Application = LegacyApplication
either_modern: ASGIApplication = application
either_legacy: ASGIApplication = LegacyApplication


def start_asgi3(
    app: ASGI3Application, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> Awaitable[None]:
    running = app(scope, receive, send)
    assert_type(running, Awaitable[None])
    return running


def start_asgi2(
    app: ASGI2Application, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> Awaitable[None]:
    instance = app(scope)
    assert_type(instance, ASGI2Protocol)
    return instance(receive, send)


async def send_anything(send: ASGISendCallable, event: ASGISendEvent) -> None:
    # HTTPDisconnectEvent is a member of ASGISendEvent in the published asgiref.
    disconnect: HTTPDisconnectEvent = {"type": "http.disconnect"}
    await send(disconnect)
    await send(event)


def extension_types(file: IO[bytes]) -> None:
    """The extension types this implementation adds beyond the published asgiref."""
    zerocopy: HTTPResponseZerocopysendEvent = {
        "type": "http.response.zerocopysend",
        "file": file,
        "more_body": False,
    }
    assert_type(zerocopy.get("offset"), int | None)
    hint: HTTPResponseEarlyHintEvent = {
        "type": "http.response.early_hint",
        "links": [b'</style.css>; rel="preload"; as="style"'],
    }
    assert_type(hint["links"], Iterable[bytes])
    tls: TLSExtension = {"server_cert": None, "tls_version": 0x0304, "cipher_suite": 0x1301}
    assert_type(tls.get("client_cert_chain"), Iterable[str] | None)
    assert_type(tls["tls_version"], int | None)

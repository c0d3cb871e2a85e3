"""Subclassing the way Channels' testing module does.

Channels builds HttpCommunicator and WebsocketCommunicator on ApplicationCommunicator:
they set ``self.scope`` before calling ``super().__init__(application, scope)``
positionally, and its own ApplicationCommunicator overrides ``send_input`` and
``receive_output`` to wrap the base class's.  These classes are written here from
that description, and driven against a raw application and a Starlette one.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlparse

import anyio
import pytest
from asgiref.testing import ApplicationCommunicator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

pytestmark = pytest.mark.anyio


class WrappingCommunicator(ApplicationCommunicator):
    """Like Channels' ApplicationCommunicator: every exchange passes through an override."""

    def __init__(self, application: Any, scope: dict[str, Any]) -> None:
        self.calls: list[str] = []
        super().__init__(application, scope)

    async def send_input(self, message: Any) -> None:
        self.calls.append("send_input")
        return await super().send_input(message)

    async def receive_output(self, timeout: float | None = 1) -> Any:
        self.calls.append("receive_output")
        return await super().receive_output(timeout)


class HttpCommunicator(WrappingCommunicator):
    def __init__(
        self, application: Any, method: str, path: str, body: bytes = b"", headers: Any = None
    ) -> None:
        parsed = urlparse(path)
        self.scope: dict[str, Any] = {
            "type": "http",
            "http_version": "1.1",
            "method": method.upper(),
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode("utf-8"),
            "headers": headers or [],
        }
        assert isinstance(body, bytes)
        self.body = body
        self.sent_request = False
        super().__init__(application, self.scope)

    async def get_response(self, timeout: float = 1) -> dict[str, Any]:
        if not self.sent_request:
            self.sent_request = True
            await self.send_input({"type": "http.request", "body": self.body})
        start = await self.receive_output(timeout)
        assert start["type"] == "http.response.start"
        response = {"status": start["status"], "headers": start.get("headers", []), "body": b""}
        while True:
            chunk = await self.receive_output(timeout)
            response["body"] += chunk.get("body", b"")
            if not chunk.get("more_body", False):
                break
        # The request is over: let the application notice and finish.
        await self.send_input({"type": "http.disconnect"})
        await self.wait(timeout)
        return response


class WebsocketCommunicator(WrappingCommunicator):
    def __init__(self, application: Any, path: str, subprotocols: list[str] | None = None) -> None:
        parsed = urlparse(path)
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode("utf-8"),
            "headers": [],
            "subprotocols": subprotocols or [],
        }
        super().__init__(application, self.scope)
        self.response_headers: list[tuple[bytes, bytes]] | None = None

    async def connect(self, timeout: float = 1) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        self.response_headers = response.get("headers", [])
        return True, response.get("subprotocol")

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.send_input({"type": "websocket.receive", "text": text_data})
        else:
            await self.send_input({"type": "websocket.receive", "bytes": bytes_data})

    async def receive_from(self, timeout: float = 1) -> str | bytes:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        frame: str | bytes = (
            response["text"] if response.get("text") is not None else response["bytes"]
        )
        return frame

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


async def raw_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        request = await receive()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-path", scope["path"].encode())],
            }
        )
        await send({"type": "http.response.body", "body": request["body"][::-1]})
        assert await receive() == {"type": "http.disconnect"}
        return
    assert await receive() == {"type": "websocket.connect"}
    if scope["path"] == "/closed":
        await send({"type": "websocket.close", "code": 4004})
        return
    await send({"type": "websocket.accept", "subprotocol": (scope["subprotocols"] or [None])[0]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {
                "type": "websocket.send",
                "text": f"got {message.get('text') or message.get('bytes')!r}",
            }
        )


async def test_http_communicator_subclass() -> None:
    communicator = HttpCommunicator(raw_echo, "GET", "/a%20b?x=1", body=b"abc")
    assert communicator.scope["path"] == "/a b"
    response = await communicator.get_response()
    assert response == {"status": 200, "headers": [(b"x-path", b"/a b")], "body": b"cba"}
    assert communicator.calls == ["send_input", "receive_output", "receive_output", "send_input"]
    assert communicator.future.done()


async def test_websocket_communicator_subclass() -> None:
    communicator = WebsocketCommunicator(raw_echo, "/chat", subprotocols=["proto"])
    assert await communicator.connect() == (True, "proto")
    await communicator.send_to(text_data="hello")
    assert await communicator.receive_from() == "got 'hello'"
    await communicator.send_to(bytes_data=b"\x01")
    assert await communicator.receive_from() == "got b'\\x01'"
    assert await communicator.receive_nothing() is True
    await communicator.disconnect()
    assert communicator.future.done()

    refused = WebsocketCommunicator(raw_echo, "/closed")
    assert await refused.connect() == (False, 4004)


async def test_subclass_sees_application_errors_through_its_overrides() -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("consumer crashed")

    communicator = WebsocketCommunicator(broken, "/")
    with pytest.raises(RuntimeError, match="consumer crashed"):
        await communicator.connect()
    assert communicator.calls == ["send_input", "receive_output"]


async def test_subclass_timeout_is_the_builtin_timeout_error() -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await anyio.sleep_forever()

    communicator = WebsocketCommunicator(silent, "/")
    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        await communicator.connect(timeout=0.01)


async def starlette_page(request: Request) -> Response:
    return PlainTextResponse(f"page {request.path_params['number']}")


async def starlette_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    name = await websocket.receive_text()
    await websocket.send_text(f"hi {name}")
    await websocket.close()


STARLETTE = Starlette(
    routes=[Route("/page/{number:int}", starlette_page), WebSocketRoute("/ws", starlette_socket)]
)


async def test_channels_style_communicators_drive_starlette() -> None:
    response = await HttpCommunicator(STARLETTE, "GET", "/page/7").get_response()
    assert (response["status"], response["body"]) == (200, b"page 7")

    communicator = WebsocketCommunicator(STARLETTE, "/ws")
    assert await communicator.connect() == (True, None)
    await communicator.send_to(text_data="ada")
    assert await communicator.receive_from() == "hi ada"
    closing = await communicator.receive_output()
    assert closing["type"] == "websocket.close"
    await communicator.wait()

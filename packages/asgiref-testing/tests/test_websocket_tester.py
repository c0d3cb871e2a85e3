"""WebSocketTester against hand-written ASGI applications."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from asgiref.testing import (
    ProtocolViolation,
    WebSocketClosed,
    WebSocketDenied,
    WebSocketTester,
)

pytestmark = pytest.mark.anyio

Receive = Any
Send = Any


def chat(log: list[dict[str, Any]]) -> Any:
    """Accept the first offered subprotocol; echo text upper-cased and bytes reversed."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        log.append(scope)
        assert await receive() == {"type": "websocket.connect"}
        offered = scope["subprotocols"]
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": offered[0] if offered else None,
                "headers": [(b"x-server", b"chat")],
            }
        )
        while True:
            message = await receive()
            log.append(message)
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "bye":
                await send({"type": "websocket.close", "code": 4001, "reason": "asked to leave"})
            elif message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"].upper()})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})

    return app


async def test_conversation_with_subprotocols_text_and_bytes() -> None:
    log: list[dict[str, Any]] = []
    tester = WebSocketTester(chat(log), validate=True)
    async with tester.connect("/room?name=a", subprotocols=["v2.chat", "v1.chat"]) as socket:
        assert socket.subprotocol == "v2.chat"
        assert socket.headers == [(b"x-server", b"chat")]
        await socket.send_text("hello")
        assert await socket.receive_text() == "HELLO"
        await socket.send_bytes(b"\x01\x02")
        assert await socket.receive_bytes() == b"\x02\x01"
        await socket.send_text("x")
        assert await socket.receive() == "X"
        await socket.close(code=1001, reason="going away")
    scope = log[0]
    assert scope["type"] == "websocket"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.5"}
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/room"
    assert scope["query_string"] == b"name=a"
    assert scope["subprotocols"] == ["v2.chat", "v1.chat"]
    assert (b"sec-websocket-protocol", b"v2.chat, v1.chat") in scope["headers"]
    assert scope["headers"][0] == (b"host", b"testserver")
    assert log[-1] == {"type": "websocket.disconnect", "code": 1001, "reason": "going away"}


async def test_leaving_the_block_closes_normally() -> None:
    log: list[dict[str, Any]] = []
    async with WebSocketTester(chat(log)).connect("/") as socket:
        assert socket.subprotocol is None
    assert log[-1] == {"type": "websocket.disconnect", "code": 1000, "reason": ""}


async def test_application_close_code_and_reason() -> None:
    log: list[dict[str, Any]] = []
    async with WebSocketTester(chat(log), validate=True).connect("/") as socket:
        await socket.send_text("bye")
        with pytest.raises(WebSocketClosed) as caught:
            await socket.receive()
        assert (caught.value.code, caught.value.reason) == (4001, "asked to leave")
        assert (socket.close_code, socket.close_reason) == (4001, "asked to leave")
        # Once closed, further receives fail at once rather than waiting.
        with pytest.raises(WebSocketClosed):
            await socket.receive_text()
    # The application learns the connection is gone with its own close code.
    assert log[-1] == {"type": "websocket.disconnect", "code": 4001, "reason": "asked to leave"}


async def test_receive_close_returns_the_code() -> None:
    async with WebSocketTester(chat([])).connect("/") as socket:
        await socket.send_text("bye")
        assert await socket.receive_close() == 4001
        assert socket.close_reason == "asked to leave"


async def test_receive_close_fails_when_a_frame_arrives() -> None:
    async with WebSocketTester(chat([])).connect("/") as socket:
        await socket.send_text("hi")
        with pytest.raises(
            AssertionError, match="expected the application to close the WebSocket, it sent 'HI'"
        ):
            await socket.receive_close()


async def test_frame_kind_mismatch_fails_clearly() -> None:
    async with WebSocketTester(chat([])).connect("/") as socket:
        await socket.send_text("a")
        with pytest.raises(
            AssertionError, match="expected a binary frame, the application sent text 'A'"
        ):
            await socket.receive_bytes()
        await socket.send_bytes(b"ab")
        with pytest.raises(
            AssertionError, match=r"expected a text frame, the application sent bytes b'ba'"
        ):
            await socket.receive_text()


async def test_denial_by_closing_before_accept() -> None:
    after: list[dict[str, Any]] = []

    async def refuses(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4403, "reason": "no token"})
        after.append(await receive())

    with pytest.raises(WebSocketDenied) as caught:
        async with WebSocketTester(refuses, validate=True).connect("/"):
            pytest.fail("the block must not run for a denied handshake")
    denied = caught.value
    assert (denied.status, denied.code, denied.reason) == (403, 4403, "no token")
    assert str(denied) == (
        "the application denied the WebSocket handshake with close code 4403 (HTTP 403): no token"
    )
    assert after == [{"type": "websocket.disconnect", "code": 1005}]


async def test_denial_with_an_http_response() -> None:
    async def refuses(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"www-authenticate", b"Bearer")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"log in", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b" first"})

    tester = WebSocketTester(refuses, validate=True, extensions={"websocket.http.response": {}})
    with pytest.raises(WebSocketDenied) as caught:
        async with tester.connect("/"):
            pass
    denied = caught.value
    assert denied.status == 401
    assert denied.code is None
    assert denied.headers == [(b"www-authenticate", b"Bearer")]
    assert denied.body == b"log in first"


async def test_application_error_propagates() -> None:
    async def crashes(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise ValueError("bad frame")

    async def talk() -> None:
        async with WebSocketTester(crashes).connect("/") as socket:
            await socket.send_text("x")
            await socket.receive()

    with pytest.raises(ValueError, match="bad frame"):
        await talk()


async def test_validation_reports_the_bad_message() -> None:
    async def sends_early(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "before accept"})

    # Without validation the tester still cannot make sense of it ...
    with pytest.raises(ProtocolViolation, match=r"expected 'websocket.accept', 'websocket.close'"):
        async with WebSocketTester(sends_early).connect("/"):
            pass
    # ... and with it, the rule is named.
    with pytest.raises(ProtocolViolation, match=r"'websocket.send' before 'websocket.accept'"):
        async with WebSocketTester(sends_early, validate=True).connect("/"):
            pass


async def test_bad_arguments_get_clear_errors() -> None:
    async with WebSocketTester(chat([])).connect("/") as socket:
        with pytest.raises(TypeError, match="send_text\\(\\) takes a str, got bytes"):
            await socket.send_text(b"x")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="send_bytes\\(\\) takes bytes, got str"):
            await socket.send_bytes("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="subprotocols must be str, got int 1"):
        WebSocketTester(chat([])).build_scope("/", subprotocols=[1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="path must start with '/'"):
        async with WebSocketTester(chat([])).connect("ws://host/"):
            pass


async def test_a_single_string_subprotocol_is_one_offer() -> None:
    scope = WebSocketTester(chat([])).build_scope("/", subprotocols="graphql-ws")
    assert scope["subprotocols"] == ["graphql-ws"]


async def test_silent_application_times_out_on_connect() -> None:
    async def silent(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await anyio.sleep_forever()

    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        async with WebSocketTester(silent, timeout=0.02).connect("/"):
            pass

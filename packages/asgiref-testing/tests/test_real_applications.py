"""The protocol helpers and validation against real applications: Starlette and WsgiToAsgi.

Every exchange runs with validate=True, so these tests also show that messages real
frameworks send pass the validator.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgiref.testing import (
    ApplicationCommunicator,
    HttpTester,
    LifespanFailure,
    LifespanManager,
    WebSocketClosed,
    WebSocketDenied,
    WebSocketTester,
)
from asgiref.wsgi import WsgiToAsgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

pytestmark = pytest.mark.anyio


# --------------------------------------------------------------------------- Starlette


async def home(request: Request) -> Response:
    return PlainTextResponse(f"{request.state.greeting} at {request.url.path}")


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {"length": len(body), "body": body.decode(), "type": request.headers.get("content-type")},
        status_code=201,
        headers={"x-method": request.method},
    )


async def countdown(request: Request) -> Response:
    async def numbers() -> AsyncIterator[bytes]:
        for number in range(3, 0, -1):
            yield f"{number}\n".encode()

    return StreamingResponse(numbers(), media_type="text/plain")


async def chat(websocket: WebSocket) -> None:
    offered = websocket.scope["subprotocols"]
    await websocket.accept(subprotocol="json" if "json" in offered else None)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == "bye":
            await websocket.close(code=4000, reason="see you")
            return
        if message.get("text") is not None:
            await websocket.send_text(f"echo: {message['text']}")
        else:
            await websocket.send_bytes(message["bytes"] * 2)


async def private(websocket: WebSocket) -> None:
    await websocket.close(code=1008, reason="authentication required")


def starlette_app(*, failing_startup: bool = False) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[dict[str, Any], None]:
        if failing_startup:
            raise ConnectionRefusedError("cache unreachable")
        yield {"greeting": "hello"}

    return Starlette(
        routes=[
            Route("/", home),
            Route("/echo", echo, methods=["POST"]),
            Route("/countdown", countdown),
            WebSocketRoute("/chat", chat),
            WebSocketRoute("/private", private),
        ],
        lifespan=lifespan,
    )


async def test_starlette_lifespan_and_http() -> None:
    app = starlette_app()
    async with LifespanManager(app, validate=True) as lifespan:
        assert lifespan.state == {"greeting": "hello"}
        http = HttpTester(app, validate=True, state=lifespan.state)

        response = await http.get("/")
        assert response.status == 200
        assert response.body == b"hello at /"
        assert response.header("content-type") == b"text/plain; charset=utf-8"

        response = await http.request(
            "POST",
            "/echo",
            headers=[("content-type", "text/plain")],
            body=[b"chunk one, ", b"chunk two"],
        )
        assert response.status == 201
        assert json.loads(response.body) == {
            "length": 20,
            "body": "chunk one, chunk two",
            "type": "text/plain",
        }
        assert response.header("x-method") == b"POST"

        assert (await http.get("/missing")).status == 404
        assert (await http.request("DELETE", "/echo")).status == 405


async def test_starlette_streaming_response() -> None:
    app = starlette_app()
    async with LifespanManager(app) as lifespan:
        http = HttpTester(app, validate=True, state=lifespan.state)
        async with http.stream("GET", "/countdown") as response:
            assert response.status == 200
            assert [chunk async for chunk in response] == [b"3\n", b"2\n", b"1\n"]
        assert (await http.get("/countdown")).body == b"3\n2\n1\n"


async def test_starlette_failing_startup_reports_the_message() -> None:
    with pytest.raises(LifespanFailure) as caught:
        async with LifespanManager(starlette_app(failing_startup=True), validate=True):
            pass
    assert caught.value.phase == "startup"
    assert "cache unreachable" in caught.value.message
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


async def test_starlette_websocket() -> None:
    tester = WebSocketTester(starlette_app(), validate=True)
    async with tester.connect("/chat", subprotocols=["xml", "json"]) as socket:
        assert socket.subprotocol == "json"
        await socket.send_text("hi")
        assert await socket.receive_text() == "echo: hi"
        await socket.send_bytes(b"ab")
        assert await socket.receive_bytes() == b"abab"
        await socket.send_text("bye")
        with pytest.raises(WebSocketClosed) as caught:
            await socket.receive()
        assert (caught.value.code, caught.value.reason) == (4000, "see you")

    async with tester.connect("/chat") as socket:
        assert socket.subprotocol is None
        await socket.send_text("x")
        assert await socket.receive() == "echo: x"


async def test_starlette_websocket_denial() -> None:
    with pytest.raises(WebSocketDenied) as caught:
        async with WebSocketTester(starlette_app(), validate=True).connect("/private"):
            pass
    assert (caught.value.status, caught.value.code, caught.value.reason) == (
        403,
        1008,
        "authentication required",
    )


# --------------------------------------------------------------------------- WsgiToAsgi


StartResponse = Callable[..., Any]


def wsgi_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Length", str(length))])
        return [b"you sent: ", body]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return stream_lines()
    if path == "/crash":
        raise ArithmeticError("wsgi view failed")
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [f"no page at {environ['SCRIPT_NAME']}|{path}".encode()]


def stream_lines() -> Iterator[bytes]:
    yield b"line 1\n"
    yield b""
    yield b"line 2\n"


async def test_wsgi_app_through_the_http_helper() -> None:
    http = HttpTester(WsgiToAsgi(wsgi_app), validate=True, root_path="/site")
    response = await http.request("POST", "/site/echo", body=[b"hello ", b"wsgi"])
    assert response.status == 200
    assert response.body == b"you sent: hello wsgi"
    # WSGI header names arrive lower-cased, as the ASGI spec requires.
    assert response.headers == [(b"content-type", b"text/plain"), (b"x-length", b"10")]

    response = await http.get("/site/nowhere")
    assert (response.status, response.body) == (404, b"no page at /site|/nowhere")


async def test_wsgi_streamed_body() -> None:
    http = HttpTester(WsgiToAsgi(wsgi_app), validate=True)
    async with http.stream("GET", "/stream") as response:
        assert [chunk async for chunk in response] == [b"line 1\n", b"line 2\n"]


async def test_wsgi_error_propagates() -> None:
    with pytest.raises(ArithmeticError, match="wsgi view failed"):
        await HttpTester(WsgiToAsgi(wsgi_app), validate=True).get("/crash")


async def test_wsgi_adapter_lifespan_and_websocket() -> None:
    # Our WsgiToAsgi acknowledges lifespan events and refuses WebSockets (the
    # published one raises for both scopes); either way the helpers see valid ASGI.
    async with LifespanManager(WsgiToAsgi(wsgi_app), validate=True) as lifespan:
        assert lifespan.state == {}
    with pytest.raises(WebSocketDenied) as caught:
        async with WebSocketTester(WsgiToAsgi(wsgi_app), validate=True).connect("/"):
            pass
    assert (caught.value.status, caught.value.code) == (403, 1000)


async def test_typical_communicator_sequence_through_wsgi() -> None:
    # The sequence from 50-testing.md §3, with validation on.
    scope = HttpTester(wsgi_app).build_scope("POST", "/echo", headers=[("content-length", "4")])
    communicator = ApplicationCommunicator(WsgiToAsgi(wsgi_app), scope, validate=True)
    # The WSGI view blocks reading its body, so nothing can come out yet.
    assert await communicator.receive_nothing() is True
    await communicator.send_input({"type": "http.request", "body": b"ping"})
    # Returns as soon as the worker thread's first message arrives.
    assert await communicator.receive_nothing(timeout=10) is False
    start = await communicator.receive_output()
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    bodies: list[bytes] = []
    while True:
        message = await communicator.receive_output()
        assert message["type"] == "http.response.body"
        bodies.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    assert b"".join(bodies) == b"you sent: ping"
    assert await communicator.receive_nothing(0.01) is True
    await communicator.wait()

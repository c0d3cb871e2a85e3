"""asgiref.testing at work: drive ASGI applications in-process, and catch protocol bugs.

Runs a small hand-written ASGI application and a WSGI one (through WsgiToAsgi)
with ApplicationCommunicator, LifespanManager, HttpTester and WebSocketTester,
then shows validation mode pointing at the exact message a buggy app got wrong.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.testing import (
    ApplicationCommunicator,
    HttpTester,
    LifespanManager,
    ProtocolViolation,
    WebSocketClosed,
    WebSocketDenied,
    WebSocketTester,
)
from asgiref.wsgi import WsgiToAsgi


def section(title: str) -> None:
    print(f"\n--- {title}")


# --------------------------------------------------------------------------- the apps


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Lifespan + HTTP (greeting, echo, countdown stream) + a WebSocket chat."""
    if scope["type"] == "lifespan":
        await receive()
        scope["state"]["started_at"] = time.strftime("%H:%M:%S")
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "http":
        body = b""
        chunks = 0
        while True:
            message = await receive()
            body += message.get("body", b"")
            chunks += 1
            if not message.get("more_body"):
                break
        if scope["path"] == "/countdown":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for number in (3, 2, 1):
                await send(
                    {"type": "http.response.body", "body": b"%d " % number, "more_body": True}
                )
            await send({"type": "http.response.body", "body": b"liftoff"})
            return
        started_at = scope["state"]["started_at"]
        text = f"started at {started_at}; got {len(body)} bytes in {chunks} message(s)"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": text.encode()})
    elif scope["type"] == "websocket":
        await receive()
        if scope["path"] != "/chat":
            await send({"type": "websocket.close", "code": 4404, "reason": "no such room"})
            return
        chosen = "chat.v2" if "chat.v2" in scope["subprotocols"] else None
        await send({"type": "websocket.accept", "subprotocol": chosen})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "quit":
                await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
                return
            await send({"type": "websocket.send", "text": f"you said {message.get('text')!r}"})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"WSGI saw ", environ["REQUEST_METHOD"].encode(), b" with body ", data]


async def buggy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Looks fine from a client, but breaks the ASGI spec twice."""
    await receive()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"Content-Type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})
    await send({"type": "http.response.body", "body": b"one more thing"})


async def still_buggy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The header fixed; the extra body message after the final one remains."""
    await receive()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})
    await send({"type": "http.response.body", "body": b"one more thing"})


# --------------------------------------------------------------------------- the tour


async def communicator_tour() -> None:
    section("ApplicationCommunicator: raw messages")

    started: list[bool] = []

    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        started.append(True)
        while True:
            await send({"type": "echo", "got": (await receive())["type"]})

    communicator = ApplicationCommunicator(echo, {"type": "custom"})
    await asyncio.sleep(0)
    print("communicator built; application started yet?", bool(started))
    print(
        "receive_nothing() ->",
        await communicator.receive_nothing(),
        "| started now?",
        bool(started),
    )
    await communicator.send_input({"type": "ping"})
    print("receive_output() ->", await communicator.receive_output())
    started = time.perf_counter()
    try:
        await communicator.receive_output(timeout=0.05)
    except asyncio.TimeoutError as error:  # the builtin TimeoutError on 3.11+
        elapsed = (time.perf_counter() - started) * 1000
        print(f"silent app: {type(error).__name__} after {elapsed:.0f} ms: {error}")
    print("application cancelled by the timeout:", communicator.future.cancelled())


async def helpers_tour() -> None:
    section("LifespanManager + HttpTester + WebSocketTester, on a raw ASGI app")
    async with LifespanManager(app, validate=True) as lifespan:
        print("startup stored state:", lifespan.state)
        http = HttpTester(app, validate=True, state=lifespan.state)
        response = await http.request("POST", "/upload", body=[b"part one, ", b"part two"])
        kind = response.header("content-type")
        print(f"POST /upload -> {response.status} {kind!r}: {response.body.decode()}")
        async with http.stream("GET", "/countdown") as stream:
            print("GET /countdown streamed:", [chunk async for chunk in stream])

        sockets = WebSocketTester(app, validate=True)
        async with sockets.connect("/chat", subprotocols=["chat.v1", "chat.v2"]) as chat:
            print("WebSocket accepted with subprotocol", repr(chat.subprotocol))
            await chat.send_text("hello")
            print("  received:", await chat.receive_text())
            await chat.send_text("quit")
            try:
                await chat.receive()
            except WebSocketClosed as closed:
                print(f"  application closed: code {closed.code}, reason {closed.reason!r}")
        try:
            async with sockets.connect("/attic"):
                pass
        except WebSocketDenied as denied:
            print(
                f"/attic denied: HTTP {denied.status}, close code {denied.code}, {denied.reason!r}"
            )
    print("shutdown done")

    section("HttpTester on a WSGI application, through our WsgiToAsgi")
    response = await HttpTester(WsgiToAsgi(wsgi_app), validate=True).request(
        "PUT", "/", body=b"payload"
    )
    print(f"PUT / -> {response.status} {response.headers}: {response.body.decode()}")


async def validation_tour() -> None:
    section("Validation mode: the same buggy app, without and with validate=True")
    response = await HttpTester(buggy).get("/")
    print(f"without validation: {response.status} {response.body!r}  (looks fine!)")
    try:
        await HttpTester(buggy, validate=True).get("/")
    except ProtocolViolation as violation:
        print("with validation:   ", violation)
    try:
        await HttpTester(still_buggy, validate=True).get("/")
    except ProtocolViolation as violation:
        print("header fixed:      ", violation)
        print(f"  (index={violation.index}, type={violation.message_type!r})")


async def main() -> None:
    await communicator_tour()
    await helpers_tour()
    await validation_tour()


if __name__ == "__main__":
    asyncio.run(main())

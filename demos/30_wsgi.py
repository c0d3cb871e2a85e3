"""asgiref.wsgi.WsgiToAsgi: a WSGI application served by an ASGI "server".

The server here is a few lines of asyncio that call the ASGI application the way uvicorn
or daphne would (``receive`` hands out the request, ``send`` records the response), so the
demo runs anywhere with nothing but asgiref installed. It shows:

1. the ASGI messages one request turns into, and the worker thread that ran the app;
2. requests running in parallel, each in a ThreadSensitiveContext of its own, and
   async_to_sync inside the application running on the server's event loop;
3. a request body: the first 64 KiB read before the application starts, the rest
   streamed to it while it is still arriving;
4. a 64 MiB download to a slow client in bounded memory (backpressure);
5. a client that disconnects mid-response: the app's iterable is closed;
6. lifespan answered, WebSocket refused.
"""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from typing import Any

from asgiref.sync import async_to_sync
from asgiref.wsgi import DEFAULT_MAX_WORKERS, ClientDisconnected, WsgiToAsgi

Environ = dict[str, Any]

# --------------------------------------------------------------------------- the WSGI app

barrier = threading.Barrier(4, timeout=10)
closed = threading.Event()
upload_log: list[str] = []


def application(environ: Environ, start_response: Any) -> Iterable[bytes]:
    """A plain WSGI application with a few routes."""
    path = environ["PATH_INFO"]
    if path == "/hello":
        body = f"Hello from {threading.current_thread().name}\n".encode()
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]
    if path == "/together":
        barrier.wait()  # returns only when 4 requests are inside the app at once
        loop = async_to_sync(current_loop)()  # an async client would run here
        same = loop is server_loop
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{threading.current_thread().name} (server's loop: {same})".encode()]
    if path == "/upload":
        stream = environ["wsgi.input"]
        total = 0
        upload_log.append("app started")
        for line in stream:  # lines are handed over as they arrive
            shown = repr(line) if len(line) < 40 else f"{len(line)} bytes"
            upload_log.append(f"app read {shown}")
            total += len(line)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{total} bytes\n".encode()]
    if path == "/download":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (b"x" * 65536 for _ in range(1024))  # 64 MiB, made as it is sent
    if path == "/endless":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return endless()
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


server_loop: asyncio.AbstractEventLoop | None = None


async def current_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def endless() -> Iterator[bytes]:
    try:
        while True:
            yield b"tick\n"
    finally:
        closed.set()


app = WsgiToAsgi(application)

# --------------------------------------------------------------------------- a tiny server


async def request(
    path: str,
    body: list[bytes] | None = None,
    on_send: Any = None,
    leave_after: int | None = None,
) -> list[dict[str, Any]]:
    """Serve one request through ``app``; return the messages it sent."""
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(body or [b""]) - 1}
        for i, chunk in enumerate(body or [b""])
    ]
    sent: list[dict[str, Any]] = []
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if incoming:
            message = incoming.pop(0)
            if body:
                chunk = message["body"]
                shown = repr(chunk) if len(chunk) < 40 else f"{len(chunk)} bytes"
                upload_log.append(f"server delivered {shown}")
                await asyncio.sleep(0.01)  # a client typing slowly
            return message
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if on_send is None:
            sent.append(message)
        else:
            await on_send(message)  # the caller decides what to keep
        if leave_after is not None and len(sent) == leave_after:
            gone.set()  # the client hangs up
        if message["type"] == "http.response.body" and not message.get("more_body"):
            gone.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST" if body else "GET",
        "scheme": "http",
        "path": path,
        "query_string": b"",
        "headers": [(b"host", b"demo")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return sent


async def main() -> None:
    global server_loop  # noqa: PLW0603 - the demo's one server
    server_loop = asyncio.get_running_loop()
    print(f"1. One request (up to {DEFAULT_MAX_WORKERS} at once, no thread started yet)")
    print(f"   threads before: {sorted(t.name for t in threading.enumerate())}")
    for message in await request("/hello"):
        print(f"   sent {message}")

    print("\n2. Four requests that can only finish together, i.e. in parallel")
    started = time.perf_counter()
    results = await asyncio.gather(*(request("/together") for _ in range(4)))
    names = sorted(r[1]["body"].decode() for r in results)
    print(f"   served by {names} in {time.perf_counter() - started:.3f} s")

    print("\n3. A request body: 64 KiB read first, the rest streamed as it arrives")
    big = b"x" * 65535 + b"\n"
    sent = await request("/upload", body=[big, b"first line\n", b"second ", b"line\n", b"last\n"])
    for entry in upload_log:
        print(f"   {entry}")
    print(f"   response: {sent[1]['body']!r}")

    print("\n4. 64 MiB to a slow client: the app waits for the client, memory stays flat")
    received = 0

    async def slow_client(message: dict[str, Any]) -> None:
        nonlocal received
        received += len(message.get("body", b""))
        await asyncio.sleep(0)  # every chunk costs the client a turn of the loop

    tracemalloc.start()
    started = time.perf_counter()
    await request("/download", on_send=slow_client)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"   received {received / 2**20:.0f} MiB in {time.perf_counter() - started:.2f} s, "
        f"peak traced memory {peak / 2**20:.2f} MiB"
    )

    print("\n5. A client that hangs up after 5 messages of an endless response")
    sent = await request("/endless", leave_after=5)
    print(f"   {len(sent)} messages went out before the adapter saw http.disconnect")
    print(f"   the application's iterable was closed: {closed.wait(5)}")
    print(f"   (reads and writes after a disconnect raise {ClientDisconnected.__name__},")
    print(f"    an {ClientDisconnected.__mro__[1].__name__} subclass)")

    print("\n6. Lifespan and WebSocket scopes")
    lifespan_in = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    lifespan_out: list[dict[str, Any]] = []

    async def lifespan_receive() -> dict[str, Any]:
        return lifespan_in.pop(0)

    async def record(message: dict[str, Any]) -> None:
        lifespan_out.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan_receive, record)
    print(f"   lifespan: {lifespan_out}")
    ws_out: list[dict[str, Any]] = []

    async def ws_receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def ws_record(message: dict[str, Any]) -> None:
        ws_out.append(message)

    await app({"type": "websocket", "path": "/ws"}, ws_receive, ws_record)
    print(f"   websocket: {ws_out} (the server answers the handshake with 403)")
    print(f"\n   threads after: {sorted(t.name for t in threading.enumerate())}")


if __name__ == "__main__":
    asyncio.run(main())

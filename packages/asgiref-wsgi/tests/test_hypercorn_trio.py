"""A real trio server: hypercorn's trio worker on 127.0.0.1, spoken to with httpx.

One hypercorn server (trio.run in a thread of its own, on a port the OS picks) serves
``/flask/...`` from a Flask application through WsgiToAsgi, and everything else from
an ASGI application that uses sync_to_async, Local and an async_to_sync nested inside
it, checking at each step that it runs where it should: in the trio run, or off it.
"""

from __future__ import annotations

import functools
import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
import httpx
import pytest
import trio
import trio.lowlevel
from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.wsgi import WsgiToAsgi
from hypercorn.config import Config
from hypercorn.trio import serve  # pyright: ignore[reportUnknownVariableType]

MIB = 1024 * 1024
PATIENCE = 20
CONCURRENT = 20

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_flask_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/flask/hello")
    def hello() -> str:
        return "hello from flask"

    @app.post("/flask/echo")
    def echo() -> str:
        data = flask.request.get_data()
        return f"{len(data)} {digest(data)}"

    return app


request_local = Local()
thread_local = Local(thread_critical=True)


def make_bridge_app() -> Callable[[Scope, Receive, Send], Any]:
    """An ASGI application crossing to a thread and back into the trio run."""

    async def in_the_run(expected: str) -> str:
        # Back in the trio run: trio's own API works, and the request's Local is here.
        trio.lowlevel.current_trio_token()
        await trio.lowlevel.checkpoint()
        assert request_local.path == expected
        return f"run:{thread_local.marker}"

    def in_a_thread(body: bytes) -> str:
        assert not trio.lowlevel.in_trio_run()
        path: str = request_local.path
        thread_local.marker = "worker"  # never seen back in the run
        inner = async_to_sync(in_the_run)(path)
        request_local.hashed = digest(body)
        return f"{path} {len(body)} {inner}"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert trio.lowlevel.in_trio_run()
        request_local.path = scope["path"]
        thread_local.marker = "trio"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        text = await sync_to_async(in_a_thread)(body)
        # Local values written in the thread came back with the call.
        text += f" {request_local.hashed}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": text.encode()})

    return app


def make_dispatcher() -> Callable[[Scope, Receive, Send], Any]:
    flask_app = WsgiToAsgi(make_flask_app())
    bridge_app = make_bridge_app()

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/flask/"):
            await flask_app(scope, receive, send)
        else:
            await bridge_app(scope, receive, send)

    return dispatch


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    bound: queue.SimpleQueue[str | BaseException] = queue.SimpleQueue()
    stop: list[Callable[[], None]] = []

    async def main() -> None:
        config = Config()
        config.bind = ["127.0.0.1:0"]
        config.accesslog = None
        config.graceful_timeout = 1
        stopping = trio.Event()
        token = trio.lowlevel.current_trio_token()
        stop.append(functools.partial(token.run_sync_soon, stopping.set))
        async with trio.open_nursery() as nursery:
            addresses = await nursery.start(
                functools.partial(
                    serve,
                    make_dispatcher(),  # type: ignore[arg-type]
                    config,
                    shutdown_trigger=stopping.wait,
                )
            )
            bound.put(addresses[0])

    def run() -> None:
        try:
            trio.run(main)
        except BaseException as exc:
            bound.put(exc)

    thread = threading.Thread(target=run, name="hypercorn-trio", daemon=True)
    thread.start()
    address = bound.get(timeout=PATIENCE)
    if isinstance(address, BaseException):
        raise address
    try:
        yield address
    finally:
        stop[0]()
        thread.join(PATIENCE)
    assert not thread.is_alive(), "hypercorn did not stop"


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=PATIENCE) as session:
        yield session


def test_flask_get(client: httpx.Client) -> None:
    response = client.get("/flask/hello")
    assert response.status_code == 200
    assert response.text == "hello from flask"


def test_flask_five_mib_post(client: httpx.Client) -> None:
    data = bytes(range(256)) * (5 * MIB // 256)
    response = client.post("/flask/echo", content=data)
    assert response.status_code == 200
    assert response.text == f"{len(data)} {digest(data)}"


def test_flask_twenty_concurrent(client: httpx.Client) -> None:
    def fetch(_: int) -> httpx.Response:
        return client.get("/flask/hello")

    with ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(fetch, range(CONCURRENT)))
    assert [r.text for r in responses] == ["hello from flask"] * CONCURRENT


def test_bridge_get(client: httpx.Client) -> None:
    response = client.get("/bridge/get")
    assert response.status_code == 200
    assert response.text == f"/bridge/get 0 run:trio {digest(b'')}"


def test_bridge_five_mib_post(client: httpx.Client) -> None:
    data = bytes(reversed(range(256))) * (5 * MIB // 256)
    response = client.post("/bridge/post", content=data)
    assert response.text == f"/bridge/post {len(data)} run:trio {digest(data)}"


def test_bridge_twenty_concurrent(client: httpx.Client) -> None:
    def fetch(index: int) -> str:
        return client.get(f"/bridge/{index}").text

    with ThreadPoolExecutor(CONCURRENT) as pool:
        texts = list(pool.map(fetch, range(CONCURRENT)))
    # Each request saw only its own Local values, all the way through.
    assert texts == [f"/bridge/{i} 0 run:trio {digest(b'')}" for i in range(CONCURRENT)]

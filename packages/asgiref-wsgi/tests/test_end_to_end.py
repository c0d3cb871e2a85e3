"""Real parts: WSGI applications behind uvicorn on a loopback port, spoken to with httpx.

One uvicorn server (started here on 127.0.0.1, on a port the OS picks, lifespan "auto", so
that asgiref 3.13.0, which refuses lifespan scopes, can be served too) serves one
WsgiToAsgi adapter. Behind it a small WSGI dispatcher sends ``/flask/...`` to a
Flask application and everything else to a plain WSGI application wrapped in
``wsgiref.validate.validator``, which asserts PEP 3333 conformance on both sides (including
that the response iterable is closed).
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs
from wsgiref.validate import validator

import flask
import h11
import httpx
import pytest
import uvicorn
from asgiref.wsgi import WsgiToAsgi

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
KIB = 1024
MIB = 1024 * KIB
PATIENCE = 10
CONCURRENT = 8


def pattern(size: int) -> Iterator[bytes]:
    """``size`` bytes of a deterministic pattern, in 64 KiB chunks."""
    block = bytes(range(256)) * 256
    left = size
    while left > 0:
        piece = block[: min(left, len(block))]
        left -= len(piece)
        yield piece


def digest(chunks: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


class Signals:
    """Events the applications raise so the tests can wait on what happened server-side."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(CONCURRENT, timeout=PATIENCE)
        self.endless_started = threading.Event()
        self.endless_closed = threading.Event()
        self.lifespan: list[str] = []


# --------------------------------------------------------------------------- applications


def make_plain_app(signals: Signals) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    def text(start_response: StartResponse, body: bytes, status: str = "200 OK") -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    def echo(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        h = hashlib.sha256()
        size = 0
        while True:
            piece = stream.read(64 * KIB)
            if not piece:
                break
            h.update(piece)
            size += len(piece)
        return text(start_response, f"{size} {h.hexdigest()}".encode())

    def lines(environ: Environ, start_response: StartResponse) -> list[bytes]:
        count = sum(1 for _ in environ["wsgi.input"])
        return text(start_response, str(count).encode())

    def download(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        size = int(parse_qs(environ["QUERY_STRING"])["size"][0])
        start_response(
            "200 OK",
            [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
        )
        yield from pattern(size)

    def slow(environ: Environ, start_response: StartResponse) -> list[bytes]:
        # Passes only when every concurrent request is inside an application at once.
        signals.barrier.wait()
        return text(start_response, threading.current_thread().name.encode())

    def endless(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        signals.endless_started.set()
        try:
            for _ in range(1_000_000):  # far more than any client here reads
                yield b"e" * (16 * KIB)
        finally:
            signals.endless_closed.set()

    def bad_header(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Evil", "a\r\nX-Injected: 1")])
        return [b"never sent"]

    routes = {
        "/echo": echo,
        "/lines": lines,
        "/download": download,
        "/slow": slow,
        "/endless": endless,
    }

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        route = routes.get(environ["PATH_INFO"])
        if route is None:
            return text(start_response, b"not found", "404 Not Found")
        return route(environ, start_response)

    # bad_header is outside the validator: the validator would refuse it before we could.
    checked = validator(app)

    def outer(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/bad-header":
            return bad_header(environ, start_response)
        return checked(environ, start_response)

    return outer


def make_flask_app() -> flask.Flask:
    app = flask.Flask("e2e")

    @app.get("/flask/hello")
    def hello() -> str:
        return "hello from flask"

    @app.post("/flask/upload")
    def upload() -> str:
        h = hashlib.sha256()
        size = 0
        while piece := flask.request.stream.read(64 * KIB):
            h.update(piece)
            size += len(piece)
        return f"{size} {h.hexdigest()}"

    @app.post("/flask/form")
    def form() -> str:
        name: str = flask.request.form["name"]
        return "name=" + name

    @app.get("/flask/stream")
    def stream() -> flask.Response:
        size = int(flask.request.args["size"])
        return flask.Response(pattern(size), mimetype="application/octet-stream")

    return app


# --------------------------------------------------------------------------- server


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@pytest.fixture(scope="module")
def signals() -> Signals:
    return Signals()


@pytest.fixture(scope="module")
def base_url(signals: Signals) -> Iterator[str]:
    plain = make_plain_app(signals)
    flask_app = make_flask_app()

    def dispatch(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith("/flask/"):
            return flask_app(environ, start_response)
        return plain(environ, start_response)

    adapter = WsgiToAsgi(dispatch)

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":

            async def recording_send(message: Any) -> None:
                signals.lifespan.append(message["type"])
                await send(message)

            await adapter(scope, receive, recording_send)
            return
        await adapter(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        asgi,
        lifespan="auto",
        http="h11",
        loop="asyncio",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(PATIENCE):
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(PATIENCE)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not stop"
    # Answered in full or (asgiref 3.13.0) not at all; test_lifespan_startup_was_answered
    # makes sure it is answered here.
    if signals.lifespan:
        assert signals.lifespan == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    # A connection per test: on one kept-alive connection, asgiref 3.13.0 answers a request
    # that follows a large upload with 500 now and then (wsgi-server-called-in-the-calls-
    # context, tested on its own in test_pipelined_requests_are_all_answered), and these
    # tests also run against it. trust_env=False: never route loopback traffic through a
    # proxy from the environment.
    with httpx.Client(base_url=base_url, trust_env=False, timeout=PATIENCE) as c:
        yield c


# --------------------------------------------------------------------------- tests

# The plain application is wrapped in wsgiref.validate.validator, which asserts that its
# iterable is closed: asgiref 3.13.0 never closes it.
PLAIN_APP = pytest.mark.ours_only("wsgi-close-called")


@pytest.mark.ours_only("wsgi-lifespan-and-websocket")
def test_lifespan_startup_was_answered(client: httpx.Client, signals: Signals) -> None:
    assert signals.lifespan[:1] == ["lifespan.startup.complete"]


@PLAIN_APP
def test_chunked_upload_through_the_validator(client: httpx.Client) -> None:
    size = 3 * MIB + 17
    response = client.post("/echo", content=pattern(size))  # a generator: chunked encoding
    assert response.status_code == 200
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.text == f"{size} {digest(pattern(size))}"


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """Up to ``count`` responses to POSTs sent pipelined on ``sock``: (status, body) each.

    Fewer when the server closes the connection first.
    """
    responses: list[tuple[int, bytes]] = []
    unread = b""
    while len(responses) < count:
        # One parser per response: h11's client does not pipeline. It is told of a request
        # of the same method (what it would send is discarded: the real one was sent).
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method="POST", target="/", headers=[("Host", "e2e")]))
        conn.send(h11.EndOfMessage())
        if unread:  # b"" would tell the parser that the connection closed
            conn.receive_data(unread)
        status, body = 0, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = sock.recv(64 * KIB)
                if not data:
                    return responses
                conn.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        responses.append((status, body))
        unread = conn.trailing_data[0]
    return responses


@pytest.mark.ours_only("wsgi-server-called-in-the-calls-context")
def test_pipelined_requests_are_all_answered(base_url: str) -> None:
    # Sent in one write, the later requests wait in uvicorn's buffer, reading is paused,
    # and each is started from inside the previous response's last send(). asgiref 3.13.0
    # answers the first and then 500 (and closes the connection).
    host, port = base_url.removeprefix("http://").split(":")
    bodies = [b"one", b"two" * 1000, b"three"]
    wire = b"".join(
        b"POST /echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b)
        for b in bodies
    )
    with socket.create_connection((host, int(port)), timeout=PATIENCE) as sock:
        sock.sendall(wire)
        responses = read_responses(sock, len(bodies))
    expected = [(200, f"{len(b)} {hashlib.sha256(b).hexdigest()}".encode()) for b in bodies]
    assert responses == expected


@PLAIN_APP
def test_sized_upload_and_line_iteration(client: httpx.Client) -> None:
    payload = b"".join(b"line %d\n" % i for i in range(5000))
    response = client.post("/lines", content=payload)
    assert response.text == "5000"


@PLAIN_APP
def test_large_streamed_download(client: httpx.Client) -> None:
    size = 32 * MIB
    with client.stream("GET", "/download", params={"size": size}) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        got = digest(response.iter_bytes())
    assert got == digest(pattern(size))


@pytest.mark.ours_only("wsgi-parallel-requests")
def test_concurrent_slow_requests(base_url: str) -> None:
    # One client, one connection per request in flight (httpx clients are thread-safe).
    limits = httpx.Limits(max_connections=CONCURRENT)
    with httpx.Client(
        base_url=base_url, trust_env=False, timeout=PATIENCE, limits=limits
    ) as shared:

        def one(_: int) -> tuple[int, str]:
            response = shared.get("/slow")
            return response.status_code, response.text

        with ThreadPoolExecutor(CONCURRENT) as pool:
            results = list(pool.map(one, range(CONCURRENT)))
    assert [status for status, _ in results] == [200] * CONCURRENT
    names = {name for _, name in results}
    assert len(names) == CONCURRENT


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
def test_client_that_disconnects_mid_response(client: httpx.Client, signals: Signals) -> None:
    with client.stream("GET", "/endless") as response:
        assert response.status_code == 200
        chunks = response.iter_bytes()
        assert next(chunks)
    # Leaving the block drops the connection with most of the body unread: the server's
    # http.disconnect must stop the application and close its iterable.
    assert signals.endless_started.is_set()
    assert signals.endless_closed.wait(PATIENCE)


@pytest.mark.ours_only("wsgi-headers-latin1-and-validated")
def test_invalid_response_header_gives_500(client: httpx.Client) -> None:
    response = client.get("/bad-header")
    assert response.status_code == 500
    assert "x-injected" not in response.headers
    assert "x-evil" not in response.headers


@PLAIN_APP
def test_not_found_from_the_plain_app(client: httpx.Client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404


def test_flask_hello(client: httpx.Client) -> None:
    response = client.get("/flask/hello")
    assert response.status_code == 200
    assert response.text == "hello from flask"


# Without wsgi.input_terminated, Werkzeug reads a body without Content-Length as empty.
@pytest.mark.ours_only("wsgi-environ-extra-keys")
def test_flask_chunked_upload(client: httpx.Client) -> None:
    size = 2 * MIB + 5
    response = client.post("/flask/upload", content=pattern(size))
    assert response.status_code == 200
    assert response.text == f"{size} {digest(pattern(size))}"


def test_flask_form(client: httpx.Client) -> None:
    response = client.post("/flask/form", data={"name": "caf\u00e9 & co"})
    assert response.text == "name=caf\u00e9 & co"


def test_flask_streamed_response(client: httpx.Client) -> None:
    size = 4 * MIB + 3
    with client.stream("GET", "/flask/stream", params={"size": size}) as response:
        assert response.status_code == 200
        got = digest(response.iter_bytes())
    assert got == digest(pattern(size))


def test_flask_not_found(client: httpx.Client) -> None:
    assert client.get("/flask/missing").status_code == 404

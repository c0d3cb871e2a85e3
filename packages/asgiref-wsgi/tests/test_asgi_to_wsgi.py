"""asgiref.wsgi.AsgiToWsgi driven in-process, the way a WSGI server calls an application."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import LoopThread, async_to_sync, sync_to_async
from asgiref.wsgi import AsgiToWsgi, ClientDisconnected

WAIT = 10.0
MIB = 1024 * 1024
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
request_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_var", default="unset")


def environ_for(
    path: str = "/",
    method: str = "GET",
    body: bytes = b"",
    *,
    chunked: bool = False,
    stream: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50123",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": stream if stream is not None else io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if chunked:
        environ["wsgi.input_terminated"] = True
    elif body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    return environ


class Response:
    def __init__(self) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.body = b""


def call(adapter: AsgiToWsgi, environ: dict[str, Any]) -> Response:
    """Call the adapter as a WSGI server does: start_response, iterate, close."""
    response = Response()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        response.status, response.headers = status, headers
        return None

    result = adapter(environ, start_response)
    try:
        response.body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return response


def ignore_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    """A start_response for tests that look only at the body."""


@pytest.fixture
def adapt() -> Iterator[Callable[..., AsgiToWsgi]]:
    made: list[AsgiToWsgi] = []

    def make(app: Any, **options: Any) -> AsgiToWsgi:
        options.setdefault("lifespan", "off")
        adapter = AsgiToWsgi(app, **options)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close(timeout=WAIT)


async def read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        assert message["type"] == "http.request", message
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def respond(send: Send, body: bytes, status: int = 200, headers: Any = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- the scope


def test_scope_is_built_from_the_environ(adapt: Callable[..., AsgiToWsgi]) -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await respond(send, b"ok")

    adapter = adapt(app)
    environ = environ_for(
        # What a PEP 3333 server gives for /mount/café/x%2Fy?q=1: UTF-8 bytes as latin-1.
        "/café/x/y".encode().decode("latin-1"),
        "post",
        b"data",
        SCRIPT_NAME="/mount",
        QUERY_STRING="q=1&r=%C3%A9",
        CONTENT_TYPE="text/plain",
        HTTP_X_CUSTOM_THING="Value",
        HTTP_HOST="example.com",
        SERVER_PROTOCOL="HTTP/1.0",
    )
    environ["wsgi.url_scheme"] = "https"
    assert call(adapter, environ).body == b"ok"
    (scope,) = seen
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.0"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/mount/café/x/y"
    assert scope["raw_path"] == b"/mount/caf%C3%A9/x/y"
    assert scope["root_path"] == "/mount"
    assert scope["query_string"] == b"q=1&r=%C3%A9"
    assert sorted(scope["headers"]) == [
        (b"content-length", b"4"),
        (b"content-type", b"text/plain"),
        (b"host", b"example.com"),
        (b"x-custom-thing", b"Value"),
    ]
    assert scope["client"] == ("127.0.0.1", 50123)
    assert scope["server"] == ("testserver", 8080)
    assert scope["wsgi_environ"] is environ
    assert "state" not in scope  # lifespan="off"


def test_raw_path_comes_from_the_servers_raw_uri(adapt: Callable[..., AsgiToWsgi]) -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await respond(send, b"")

    adapter = adapt(app)
    call(adapter, environ_for("/a/b", RAW_URI="/a%2Fb?x=1", REMOTE_PORT="", HTTP_2="x"))
    assert seen[0]["raw_path"] == b"/a%2Fb"
    assert seen[0]["path"] == "/a/b"
    assert seen[0]["client"] == ("127.0.0.1", 0)  # port unknown


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize("size", [0, 10, 64 * 1024, 300_001])
@pytest.mark.parametrize("chunked", [False, True])
def test_request_body_arrives_whole(
    adapt: Callable[..., AsgiToWsgi], size: int, chunked: bool
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        await respond(send, b"%d:%s" % (len(body), body[-5:]))

    body = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    response = call(adapt(app), environ_for("/", "POST", body, chunked=chunked))
    assert response.body == b"%d:%s" % (size, body[-5:])


def test_no_length_and_no_termination_means_no_body(adapt: Callable[..., AsgiToWsgi]) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, await read_body(receive))

    environ = environ_for("/", "POST", stream=io.BytesIO(b"not to be read"))
    assert call(adapt(app), environ).body == b""


def test_truncated_body_is_a_disconnect(adapt: Callable[..., AsgiToWsgi]) -> None:
    messages: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await respond(send, b"")

    environ = environ_for("/", "POST", stream=io.BytesIO(b"x" * 70_000), CONTENT_LENGTH="200000")
    call(adapt(app), environ)
    assert [m["type"] for m in messages] == ["http.request", "http.request", "http.disconnect"]


def test_response_streams_as_the_application_sends(adapt: Callable[..., AsgiToWsgi]) -> None:
    first_taken = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        # The server must have the first chunk before the second one exists.
        assert await asyncio.to_thread(first_taken.wait, WAIT)
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"two", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    result = adapt(app)(environ_for(), start_response)
    iterator = iter(result)
    assert statuses == ["200 OK"]
    assert next(iterator) == b"one"
    first_taken.set()
    assert list(iterator) == [b"two"]
    result.close()  # type: ignore[attr-defined]


def test_server_closing_early_delivers_disconnect(adapt: Callable[..., AsgiToWsgi]) -> None:
    finished = threading.Event()
    results: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        assert (await receive())["type"] == "http.request"
        results.append((await receive())["type"])  # waits: the body is complete
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
        except ClientDisconnected:
            results.append("send raised ClientDisconnected")
        finished.set()

    result = adapt(app)(environ_for(), ignore_start)
    assert next(iter(result)) == b"first"
    result.close()  # type: ignore[attr-defined]
    assert finished.wait(WAIT)
    assert results == ["http.disconnect", "send raised ClientDisconnected"]


def test_receive_after_the_response_is_a_disconnect(adapt: Callable[..., AsgiToWsgi]) -> None:
    after: list[str] = []
    done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, b"ok")
        after.append((await receive())["type"])
        done.set()

    assert call(adapt(app), environ_for("/", "POST", b"unread")).body == b"ok"
    assert done.wait(WAIT)
    assert after == ["http.disconnect"]


def test_hundred_mib_up_and_down_in_bounded_memory(adapt: Callable[..., AsgiToWsgi]) -> None:
    total = 100 * MIB

    class Upload(io.RawIOBase):
        """A request body made on demand, as a socket would deliver it."""

        def __init__(self) -> None:
            self.left = total

        def read(self, size: int = -1) -> bytes:
            size = min(size, self.left)
            self.left -= size
            return b"u" * size

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        while True:
            message = await receive()
            received += len(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(received // (256 * 1024)):
            await send({"type": "http.response.body", "body": b"d" * 256 * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    adapter = adapt(app)
    call(adapter, environ_for("/", "POST", b"warm-up"))
    tracemalloc.start()
    try:
        result = adapter(
            environ_for("/", "POST", stream=Upload(), CONTENT_LENGTH=str(total)),
            ignore_start,
        )
        downloaded = sum(len(chunk) for chunk in result)
        result.close()  # type: ignore[attr-defined]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert downloaded == total
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB for 100 MiB each way"


# --------------------------------------------------------------------------- errors


def test_exception_before_the_response_is_a_logged_500(
    adapt: Callable[..., AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ZeroDivisionError("app bug")

    response = call(adapt(app), environ_for())
    assert response.status == "500 Internal Server Error"
    assert response.body == b"Internal Server Error"
    (record,) = [r for r in caplog.records if r.name == "asgiref.wsgi"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ZeroDivisionError)


def test_returning_without_a_response_is_a_500(
    adapt: Callable[..., AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    assert call(adapt(app), environ_for()).status == "500 Internal Server Error"
    assert "without sending a response" in caplog.text


def test_exception_after_the_response_started_breaks_the_response(
    adapt: Callable[..., AsgiToWsgi],
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ZeroDivisionError("mid-response")

    result = adapt(app)(environ_for(), ignore_start)
    iterator = iter(result)
    assert next(iterator) == b"partial"
    with pytest.raises(ZeroDivisionError, match="mid-response"):
        next(iterator)
    result.close()  # type: ignore[attr-defined]


def test_returning_mid_response_breaks_the_response(adapt: Callable[..., AsgiToWsgi]) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})

    result = adapt(app)(environ_for(), ignore_start)
    with pytest.raises(RuntimeError, match="without completing its response"):
        list(result)


BAD_MESSAGES: list[tuple[list[Any], str]] = [
    (["not a dict"], "must be a dict"),
    ([{"type": "websocket.accept"}], "unexpected ASGI message type 'websocket.accept'"),
    ([{"type": "http.response.body", "body": b"x"}], "before 'http.response.start'"),
    ([{"type": "http.response.start", "status": "200"}], "int from 100 to 999"),
    ([{"type": "http.response.start", "status": 42}], "int from 100 to 999"),
    ([{"type": "http.response.start", "status": 200, "headers": 5}], "iterable of"),
    ([{"type": "http.response.start", "status": 200, "headers": [b"ab"]}], "pair"),
    ([{"type": "http.response.start", "status": 200, "headers": [("a", "b")]}], "must be bytes"),
    (
        [{"type": "http.response.start", "status": 200, "headers": [(b"a", b"b\r\nc: d")]}],
        "cannot be sent",
    ),
    (
        [{"type": "http.response.start", "status": 200, "headers": [(b"a b", b"c")]}],
        "cannot be sent",
    ),
    (
        [
            {"type": "http.response.start", "status": 200},
            {"type": "http.response.start", "status": 200},
        ],
        "sent twice",
    ),
    (
        [
            {"type": "http.response.start", "status": 200},
            {"type": "http.response.body", "body": "s"},
        ],
        "'body' must be bytes",
    ),
    (
        [
            {"type": "http.response.start", "status": 200},
            {"type": "http.response.body", "more_body": 1},
        ],
        "'more_body' must be a bool",
    ),
]


@pytest.mark.parametrize(("messages", "error"), BAD_MESSAGES)
def test_malformed_messages_get_clear_errors(
    adapt: Callable[..., AsgiToWsgi],
    caplog: pytest.LogCaptureFixture,
    messages: list[Any],
    error: str,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    assert call(adapt(app), environ_for()).status == "500 Internal Server Error"
    assert error in caplog.text


def test_body_after_the_response_completed_is_refused(adapt: Callable[..., AsgiToWsgi]) -> None:
    errors: list[str] = []
    done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, b"complete")
        try:
            await send({"type": "http.response.body", "body": b"extra"})
        except RuntimeError as exc:
            errors.append(str(exc))
        done.set()

    assert call(adapt(app), environ_for()).body == b"complete"
    assert done.wait(WAIT)
    assert "after the response completed" in errors[0]


def test_status_reason_and_hop_by_hop_headers(adapt: Callable[..., AsgiToWsgi]) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/plain; charset=latin-1"),
            (b"connection", b"keep-alive"),
            (b"transfer-encoding", b"chunked"),
            (b"x-name", "café".encode("latin-1")),
        ]
        await respond(send, b"teapot", status=418, headers=headers)

    response = call(adapt(app), environ_for())
    assert response.status.startswith("418 ")
    assert response.headers == [
        ("content-type", "text/plain; charset=latin-1"),
        ("x-name", "café"),
    ]


def test_unknown_status_code_gets_a_reason(adapt: Callable[..., AsgiToWsgi]) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, b"", status=599)

    assert call(adapt(app), environ_for()).status == "599 Unknown"


# --------------------------------------------------------------------------- bad input


def test_bad_constructor_arguments() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    with pytest.raises(TypeError, match="needs an ASGI application"):
        AsgiToWsgi("not callable")
    with pytest.raises(TypeError, match=r"loop_thread must be an asgiref\.sync\.LoopThread"):
        AsgiToWsgi(app, loop_thread=asyncio.new_event_loop)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lifespan must be 'auto', 'on' or 'off'"):
        AsgiToWsgi(app, lifespan="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shutdown_timeout"):
        AsgiToWsgi(app, shutdown_timeout=-1)
    with pytest.raises(ValueError, match="shutdown_timeout"):
        AsgiToWsgi(app, shutdown_timeout="5")  # type: ignore[arg-type]


BAD_ENVIRONS: list[tuple[Any, type[Exception], str]] = [
    ("not a dict", TypeError, "must be a dict"),
    (
        {k: v for k, v in environ_for().items() if k != "REQUEST_METHOD"},
        ValueError,
        "REQUEST_METHOD",
    ),
    (environ_for(REQUEST_METHOD=b"GET"), TypeError, "REQUEST_METHOD"),
    (environ_for(PATH_INFO="/\u20ac"), ValueError, "outside latin-1"),
    (environ_for(PATH_INFO=None), TypeError, "PATH_INFO"),
    (environ_for(HTTP_X_THING=3), TypeError, "HTTP_X_THING"),
    (environ_for(SERVER_PROTOCOL="SPDY"), ValueError, "SERVER_PROTOCOL"),
    (environ_for(SERVER_PORT="eighty"), ValueError, "SERVER_PORT"),
    (environ_for(CONTENT_LENGTH="-5"), ValueError, "CONTENT_LENGTH"),
    ({**environ_for(), "wsgi.input": None}, TypeError, "wsgi.input"),
    ({k: v for k, v in environ_for().items() if k != "wsgi.url_scheme"}, ValueError, "url_scheme"),
]


@pytest.mark.parametrize(("environ", "error", "match"), BAD_ENVIRONS)
def test_bad_environ_gets_a_clear_error(
    adapt: Callable[..., AsgiToWsgi], environ: Any, error: type[Exception], match: str
) -> None:
    called: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    with pytest.raises(error, match=match):
        adapt(app)(environ, ignore_start)
    assert not called


def test_closed_adapter_refuses_requests(adapt: Callable[..., AsgiToWsgi]) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, b"")

    adapter = adapt(app)
    adapter.close()
    with pytest.raises(RuntimeError, match="close"):
        call(adapter, environ_for())


# --------------------------------------------------------------------------- lifespan


class LifespanApp:
    """Counts startups, keeps state, answers requests with it."""

    def __init__(self, fail_startup: bool = False) -> None:
        self.startups = 0
        self.shutdowns = 0
        self.fail_startup = fail_startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.startups += 1
                    if self.fail_startup:
                        await send({"type": "lifespan.startup.failed", "message": "no database"})
                        return
                    scope["state"]["greeting"] = "hello"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    self.shutdowns += 1
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        state = scope["state"]
        body = f"{state.get('greeting')} {state.get('mutated', 'fresh')}".encode()
        state["mutated"] = "mutated"  # a copy: the next request must not see it
        await respond(send, body)


def test_lifespan_startup_once_state_copied_shutdown_on_close(
    adapt: Callable[..., AsgiToWsgi],
) -> None:
    app = LifespanApp()
    adapter = adapt(app, lifespan="auto")
    barrier = threading.Barrier(8, timeout=WAIT)
    bodies: list[bytes] = []

    def first_requests() -> None:
        barrier.wait()  # eight first requests at once: one startup
        bodies.append(call(adapter, environ_for()).body)

    threads = [threading.Thread(target=first_requests) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert bodies == [b"hello fresh"] * 8
    assert app.startups == 1
    assert app.shutdowns == 0
    adapter.close(timeout=WAIT)
    assert app.shutdowns == 1


def test_lifespan_startup_failed_makes_every_request_a_500(
    adapt: Callable[..., AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    app = LifespanApp(fail_startup=True)
    adapter = adapt(app, lifespan="auto")
    assert call(adapter, environ_for()).status == "500 Internal Server Error"
    assert call(adapter, environ_for()).status == "500 Internal Server Error"
    assert app.startups == 1
    assert "no database" in caplog.text


def test_an_application_without_lifespan_is_tolerated(adapt: Callable[..., AsgiToWsgi]) -> None:
    scopes: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError("only HTTP here")
        scopes.append(scope)
        await respond(send, b"served")

    assert call(adapt(app, lifespan="auto"), environ_for()).body == b"served"
    assert "state" not in scopes[0]


def test_lifespan_on_requires_support(
    adapt: Callable[..., AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError("only HTTP here")
        await respond(send, b"served")

    assert call(adapt(app, lifespan="on"), environ_for()).status == "500 Internal Server Error"
    assert "does not support it" in caplog.text


def test_lifespan_off_never_sends_a_lifespan_scope(adapt: Callable[..., AsgiToWsgi]) -> None:
    types: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        types.append(scope["type"])
        await respond(send, b"")

    call(adapt(app, lifespan="off"), environ_for())
    assert types == ["http"]


FORK_SCRIPT = """
import io, os, signal, sys
from asgiref.wsgi import AsgiToWsgi

startups = []

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        startups.append(os.getpid())
        scope["state"]["pid"] = os.getpid()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b"%d %d" % (scope["state"]["pid"], os.getpid())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})

adapter = AsgiToWsgi(app)

def get():
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO()}
    return b"".join(adapter(environ, lambda status, headers: None)).decode()

parent = get()
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hang fails instead of stalling the test
    try:
        state_pid, serving_pid = map(int, get().split())
        assert state_pid == serving_pid == os.getpid(), (state_pid, serving_pid)
        assert startups[-1] == os.getpid()
        adapter.close(timeout=10)
    except BaseException as exc:
        print("child failed:", repr(exc), flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert get() == parent
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_worker_runs_its_own_loop_and_lifespan() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", FORK_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- bridge


def test_bridge_inside_behaves_as_under_an_asgi_server(adapt: Callable[..., AsgiToWsgi]) -> None:
    """Thread-sensitive sync_to_async goes where it goes in a plain asyncio server loop,
    and async_to_sync inside it comes back to the adapter's loop."""

    async def probe() -> tuple[threading.Thread, asyncio.AbstractEventLoop, bool]:
        def sync_part() -> tuple[threading.Thread, asyncio.AbstractEventLoop]:
            return threading.current_thread(), async_to_sync(running_loop)()

        thread, loop = await sync_to_async(sync_part)()
        return thread, loop, loop is asyncio.get_running_loop()

    # A bare asyncio loop in a thread of its own, as uvicorn runs one.
    under_plain_server: list[threading.Thread] = []
    plain = threading.Thread(target=lambda: under_plain_server.append(asyncio.run(probe())[0]))
    plain.start()
    plain.join(WAIT)

    results: list[tuple[threading.Thread, asyncio.AbstractEventLoop, bool]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        results.append(await probe())
        await respond(send, b"")

    loop_thread = LoopThread("given-loop-thread")
    adapter = adapt(app, loop_thread=loop_thread)
    call(adapter, environ_for())
    call(adapter, environ_for())
    (thread1, loop1, same1), (thread2, _, same2) = results
    assert same1
    assert same2
    assert loop1 is loop_thread.loop  # the given loop thread serves the requests
    assert thread1 is thread2 is under_plain_server[0]
    assert thread1 is not threading.current_thread()
    assert thread1.name != "given-loop-thread"
    adapter.close(timeout=WAIT)
    assert loop_thread.run(running_loop(), timeout=WAIT) is loop1  # not closed: not ours
    loop_thread.close(timeout=WAIT)


async def running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_each_request_runs_in_a_fresh_context(adapt: Callable[..., AsgiToWsgi]) -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(request_var.get())
        request_var.set(scope["path"])
        await respond(send, b"")

    adapter = adapt(app)
    token = request_var.set("the server thread's value")
    try:
        call(adapter, environ_for("/one"))
        call(adapter, environ_for("/two"))
    finally:
        request_var.reset(token)
    assert seen == ["unset", "unset"]


def test_asgi2_applications_are_accepted(adapt: Callable[..., AsgiToWsgi]) -> None:
    class Asgi2App:
        def __init__(self, scope: Scope) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            await respond(send, self.scope["path"].encode())

    assert call(adapt(Asgi2App), environ_for("/legacy")).body == b"/legacy"


def test_many_threads_share_the_adapter(adapt: Callable[..., AsgiToWsgi]) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        await asyncio.sleep(0)
        await respond(send, body[::-1])

    adapter = adapt(app)
    results: dict[int, bytes] = {}

    def client(number: int) -> None:
        for round_number in range(10):
            payload = b"%d-%d" % (number, round_number)
            results[number * 100 + round_number] = call(
                adapter, environ_for("/", "POST", payload)
            ).body

    threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(results) == 500
    for key, body in results.items():
        assert body == (b"%d-%d" % divmod(key, 100))[::-1]

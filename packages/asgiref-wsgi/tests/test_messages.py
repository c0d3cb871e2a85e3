"""What WsgiToAsgi sends for what a WSGI application does, driven in-process."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from asgiref.compatibility import guarantee_single_callable
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance


def exact(message: str) -> str:
    """A pytest.raises pattern matching ``message`` and nothing else."""
    return "^" + re.escape(message) + "$"


pytestmark = pytest.mark.anyio

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]
FINAL = {"type": "http.response.body"}


def scope(**overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    result.update(overrides)
    return result


async def run(
    app: Any, body: Iterable[bytes] = (b"",), the_scope: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Serve one request the way a server does; return the messages sent."""
    chunks = list(body)
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []
    complete = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            complete.set()

    await app(scope() if the_scope is None else the_scope, receive, send)
    return sent


def start(status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers or []}


def body(data: bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": True}


class Tracked:
    """A response iterable that records how far it was iterated and how often closed."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.produced = 0
        self.closes = 0
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self.produced += 1
        return chunk

    def close(self) -> None:
        self.closes += 1
        self.closed.set()


# --------------------------------------------------------------------------- sequences


def _generator_app(*chunks: bytes, headers: list[tuple[str, str]] | None = None) -> App:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", headers or [])
        yield from chunks

    return app


async def test_yielded_chunks_are_sent_after_a_lazy_start() -> None:
    sent = await run(WsgiToAsgi(_generator_app(b"a", b"b")))
    assert sent == [start(), body(b"a"), body(b"b"), FINAL]


@pytest.mark.parametrize("kind", [list, tuple, iter, Tracked])
async def test_every_iterable_kind_gives_the_same_messages(kind: Callable[[Any], Any]) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("201 Created", [("X-Kind", "k")])
        return kind([b"x", b"", b"yz"])

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(201, [(b"x-kind", b"k")]), body(b"x"), body(b""), body(b"yz"), FINAL]


async def test_empty_response() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("204 No Content", [])
        return []

    assert await run(WsgiToAsgi(app)) == [start(204), FINAL]


async def test_content_length_truncates_the_body() -> None:
    app = _generator_app(b"0123", b"45", b"6789", headers=[("Content-Length", "8")])
    sent = await run(WsgiToAsgi(app))
    assert sent == [
        start(headers=[(b"content-length", b"8")]),
        body(b"0123"),
        body(b"45"),
        body(b"67"),
        FINAL,
    ]


@pytest.mark.parametrize(
    "kind", [list, pytest.param(Tracked, marks=pytest.mark.ours_only("wsgi-close-called"))]
)
async def test_content_length_stops_iteration_and_closes(kind: Callable[[Any], Any]) -> None:
    returned: list[Any] = []

    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", [("Content-Length", "4")])
        returned.append(kind([b"0123", b"never", b"reached"]))
        return returned[0]

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(headers=[(b"content-length", b"4")]), body(b"0123"), FINAL]
    if isinstance(returned[0], Tracked):
        assert returned[0].produced == 1
        assert returned[0].closes == 1


async def test_status_reason_is_dropped_and_header_names_lowered() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("404 Not Found At All", [("Content-Type", "text/plain"), ["X-A", "b"]])
        return [b"nope"]

    sent = await run(WsgiToAsgi(app))
    assert sent[0] == start(404, [(b"content-type", b"text/plain"), (b"x-a", b"b")])


@pytest.mark.ours_only("wsgi-headers-latin1-and-validated")
async def test_latin1_header_values_are_sent_as_latin1() -> None:
    app = _generator_app(b"", headers=[("X-Name", "caf\u00e9")])
    sent = await run(WsgiToAsgi(app))
    assert sent[0]["headers"] == [(b"x-name", b"caf\xe9")]


@pytest.mark.ours_only("wsgi-start-response-returns-write")
async def test_write_callable() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"one")
        write(bytearray(b"two"))
        return [b"three"]

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(), body(b"one"), body(b"two"), body(b"three"), FINAL]


@pytest.mark.ours_only("wsgi-start-response-returns-write")
async def test_write_past_content_length_is_dropped() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [("Content-Length", "3")])
        write(b"ab")
        write(b"cd")
        write(b"ef")
        return []

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(headers=[(b"content-length", b"3")]), body(b"ab"), body(b"c"), FINAL]


@pytest.mark.ours_only("wsgi-response-type-checks")
async def test_bytes_like_chunks_are_sent_as_bytes() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[Any]:
        start_response("200 OK", [])
        return [bytearray(b"a"), memoryview(b"bc")]

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(), body(b"a"), body(b"bc"), FINAL]
    assert all(type(m.get("body", b"")) is bytes for m in sent)


@pytest.mark.ours_only("wsgi-environ-extra-keys")
async def test_file_wrapper_streams_and_closes_the_file() -> None:
    data = bytes(range(256)) * 10
    source = io.BytesIO(data)

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        wrapper: Iterable[bytes] = environ["wsgi.file_wrapper"](source, 1000)
        return wrapper

    sent = await run(WsgiToAsgi(app))
    assert sent[0] == start()
    assert [len(m["body"]) for m in sent[1:-1]] == [1000, 1000, 560]
    assert b"".join(m["body"] for m in sent[1:-1]) == data
    assert sent[-1] == FINAL
    assert source.closed


async def test_instance_attributes() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    instance = WsgiToAsgiInstance(app)
    assert instance.wsgi_application is app
    assert instance.duplicate_header_limit == 100
    # Read through getattr: mypy would otherwise keep these narrowed across the request.
    assert getattr(instance, "response_started") is False  # noqa: B009
    assert getattr(instance, "response_content_length") is None  # noqa: B009
    assert not hasattr(instance, "response_start")
    the_scope = scope()
    sent = await run(instance, the_scope=the_scope)
    assert instance.scope is the_scope
    assert instance.response_started is True
    assert instance.response_content_length == 2
    assert instance.response_start == start(headers=[(b"content-length", b"2")])
    assert sent[1:] == [body(b"ok"), FINAL]


def test_adapter_attributes_and_single_callable() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        return []

    adapter = WsgiToAsgi(app, duplicate_header_limit=7)
    assert adapter.wsgi_application is app
    assert adapter.duplicate_header_limit == 7
    assert guarantee_single_callable(adapter) is adapter


# --------------------------------------------------------------------------- start_response


async def test_start_response_twice_without_exc_info() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        try:
            start_response("201 Created", [])
        except ValueError as exc:
            errors.append(exc)
        return [b"x"]

    sent = await run(WsgiToAsgi(app))
    assert str(errors[0]) == "You cannot call start_response a second time without exc_info"
    assert sent[0] == start(200)


async def test_exc_info_replaces_a_start_not_yet_sent() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "100"), ("X-Old", "1")])
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            start_response("500 Internal Server Error", [("X-New", "1")], sys.exc_info())
        return [b"error page"]

    instance = WsgiToAsgiInstance(app)
    sent = await run(instance)
    assert sent == [start(500, [(b"x-new", b"1")]), body(b"error page"), FINAL]
    assert instance.response_content_length is None


async def test_exc_info_after_start_reaches_the_server_after_the_partial_body() -> None:
    sent: list[dict[str, Any]] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        try:
            raise KeyError("original")
        except KeyError:
            start_response("500 Internal Server Error", [], sys.exc_info())

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(KeyError, match="original"):
        await WsgiToAsgi(app)(scope(), receive, send)
    assert sent == [start(), body(b"partial")]


@pytest.mark.ours_only("wsgi-start-response-returns-write")
async def test_start_response_without_exc_info_after_start_was_sent() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        try:
            start_response("200 OK", [])
        except ValueError as exc:
            errors.append(exc)

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(), body(b"partial"), FINAL]
    assert str(errors[0]) == "You cannot call start_response a second time without exc_info"


@pytest.mark.ours_only("wsgi-start-response-returns-write")
async def test_start_response_returns_write() -> None:
    returned: list[object] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        returned.append(start_response("200 OK", []))
        return []

    await run(WsgiToAsgi(app))
    assert callable(returned[0])


# --------------------------------------------------------------------------- invalid output


@pytest.mark.ours_only("wsgi-headers-latin1-and-validated")
@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("200", []),
        ("20 OK", []),
        ("2000 OK", []),
        ("abc OK", []),
        ("", []),
        ("200 OK", [("X-Bad", "a\r\nSet-Cookie: evil=1")]),
        ("200 OK", [("X-Bad", "line\nfeed")]),
        ("200 OK", [("X-Bad", "nul\x00")]),
        ("200 OK", [("X-Bad\r\nInjected", "v")]),
        ("200 OK", [("X Bad", "v")]),
        ("200 OK", [("X-Bad:", "v")]),
        ("200 OK", [("", "v")]),
        ("200 OK", [("X-Snowman", "\u2603")]),
        ("200 OK", [("X-Sn\u00f6wman", "v")]),
        ("200 OK", [("Content-Length", "abc")]),
        ("200 OK", [("Content-Length", "-1")]),
        ("200 OK", [("X-Triple", "a", "b")]),
        ("200 OK", [("X-One",)]),
    ],
)
async def test_invalid_start_is_answered_500_and_logged(
    status: str, headers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response(status, headers)
        return [b"never sent"]

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        sent = await run(WsgiToAsgi(app))
    assert sent == [
        start(500, [(b"content-type", b"text/plain")]),
        {"type": "http.response.body", "body": b"Internal Server Error"},
    ]
    assert any(record.levelno == logging.ERROR for record in caplog.records)
    assert caplog.records[-1].exc_info is not None


@pytest.mark.ours_only("wsgi-headers-latin1-and-validated")
async def test_application_may_recover_from_an_invalid_start() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            start_response("200 OK", [("X-Bad", "a\nb")])
        except ValueError:
            start_response("502 Bad Gateway", [("X-Good", "yes")], sys.exc_info())
        return [b"recovered"]

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(502, [(b"x-good", b"yes")]), body(b"recovered"), FINAL]


# Published: an AttributeError or a bytes/str mix-up from wherever the value is used first.
MISTYPED = pytest.mark.ours_only("wsgi-headers-latin1-and-validated")


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        pytest.param(200, [], marks=MISTYPED),
        # Published: bytes.split(" ") raises TypeError too ("... not 'str'").
        (b"200 OK", []),
        pytest.param("200 OK", [(b"X-Bytes", "v")], marks=MISTYPED),
        pytest.param("200 OK", [("X-Int", 1)], marks=MISTYPED),
    ],
)
async def test_mistyped_start_response_arguments(status: Any, headers: Any) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response(status, headers)
        return []

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(TypeError, match="str"):
        await WsgiToAsgi(app)(scope(), receive, send)
    assert sent == []


@pytest.mark.ours_only("wsgi-response-type-checks")
@pytest.mark.parametrize("kind", [Tracked, list])
@pytest.mark.parametrize("chunk", ["text", 5, None, [b"nested"]])
async def test_non_bytes_chunk_is_a_type_error_and_closes(
    chunk: object, kind: Callable[[list[Any]], Any]
) -> None:
    returned = kind([b"fine", chunk])
    sent: list[dict[str, Any]] = []

    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", [])
        return returned

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(TypeError, match="must produce bytes"):
        await WsgiToAsgi(app)(scope(), receive, send)
    assert sent == [start(), body(b"fine")]
    if isinstance(returned, Tracked):
        assert returned.closes == 1


@pytest.mark.ours_only("wsgi-response-type-checks")
@pytest.mark.parametrize("returned", [None, 5, object()])
async def test_non_iterable_return_is_a_clear_type_error(returned: object) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", [])
        return returned

    with pytest.raises(TypeError, match="must return an iterable of bytes"):
        await run(WsgiToAsgi(app))


async def test_no_start_response_is_an_attribute_error() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        return [b"body"]

    with pytest.raises(
        AttributeError, match=exact("'WsgiToAsgiInstance' object has no attribute 'response_start'")
    ):
        await run(WsgiToAsgi(app))


async def test_app_error_before_start_propagates_and_sends_nothing() -> None:
    sent: list[dict[str, Any]] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise ZeroDivisionError("early")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(ZeroDivisionError, match="early"):
        await WsgiToAsgi(app)(scope(), receive, send)
    assert sent == []


@pytest.mark.ours_only("wsgi-close-called")
async def test_app_error_after_start_propagates_after_the_partial_body() -> None:
    sent: list[dict[str, Any]] = []

    def failing() -> Iterator[bytes]:
        yield b"part"
        raise ZeroDivisionError("late")

    tracked = Tracked(failing())

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(ZeroDivisionError, match="late"):
        await WsgiToAsgi(app)(scope(), receive, send)
    assert sent == [start(), body(b"part")]
    assert tracked.closes == 1


@pytest.mark.ours_only("wsgi-close-called")
async def test_error_in_close_propagates() -> None:
    class BadClose(Tracked):
        def close(self) -> None:
            super().close()
            raise OSError("close failed")

    tracked = BadClose([b"a"])

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    with pytest.raises(OSError, match="close failed"):
        await run(WsgiToAsgi(app))
    assert tracked.closes == 1


@pytest.mark.ours_only("wsgi-close-called")
async def test_close_called_once_on_success() -> None:
    tracked = Tracked([b"a", b"b"])

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    sent = await run(WsgiToAsgi(app))
    assert sent == [start(), body(b"a"), body(b"b"), FINAL]
    assert tracked.closes == 1


# --------------------------------------------------------------------------- request errors


async def test_too_many_duplicate_headers_is_answered_400_without_the_app() -> None:
    called: list[bool] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        called.append(True)
        return []

    the_scope = scope(headers=[(b"x-test", b"1")] * 6)
    sent = await run(WsgiToAsgi(app, duplicate_header_limit=5), the_scope=the_scope)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "http.response.body", "body": b"Bad Request: Too many duplicate headers"},
    ]
    assert called == []


async def test_non_ascii_query_string_is_answered_400() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise AssertionError("not called")

    sent = await run(WsgiToAsgi(app), the_scope=scope(query_string=b"\xff"))
    assert sent[0]["status"] == 400


async def test_malformed_scope_is_a_key_error_before_anything_is_sent() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise AssertionError("not called")

    the_scope = scope()
    del the_scope["method"]
    with pytest.raises(KeyError, match="method"):
        await run(WsgiToAsgi(app), the_scope=the_scope)


@pytest.mark.parametrize("kind", ["custom", "webtransport", ""])
async def test_unknown_scope_type_is_refused_before_receiving(kind: str) -> None:
    async def receive() -> dict[str, Any]:
        raise AssertionError("receive must not be called")

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("send must not be called")

    with pytest.raises(ValueError, match=exact("WSGI wrapper received a non-HTTP scope")):
        await WsgiToAsgi(_generator_app())({"type": kind}, receive, send)


@pytest.mark.ours_only("wsgi-lifespan-and-websocket")
async def test_lifespan_is_answered() -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    the_scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await WsgiToAsgi(_generator_app())(the_scope, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


@pytest.mark.ours_only("wsgi-lifespan-and-websocket")
async def test_unexpected_lifespan_message() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.reboot"}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing to send")

    with pytest.raises(ValueError, match=re.escape("lifespan.reboot")):
        await WsgiToAsgi(_generator_app())({"type": "lifespan"}, receive, send)


@pytest.mark.ours_only("wsgi-lifespan-and-websocket")
async def test_websocket_is_refused_with_a_close() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    the_scope: dict[str, Any] = {"type": "websocket", "path": "/ws", "query_string": b""}
    await WsgiToAsgi(_generator_app())(the_scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


@pytest.mark.ours_only("wsgi-lifespan-and-websocket")
async def test_websocket_that_disconnects_first() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "websocket.disconnect", "code": 1001}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing to send")

    await WsgiToAsgi(_generator_app())({"type": "websocket"}, receive, send)


@pytest.mark.ours_only("wsgi-parallel-requests")
def test_max_workers_argument() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        WsgiToAsgi(_generator_app(), max_workers=0)
    assert WsgiToAsgi(_generator_app(), max_workers=3).max_workers == 3


@pytest.mark.ours_only("wsgi-request-body-limit")
def test_max_request_body_size_argument() -> None:
    with pytest.raises(ValueError, match="max_request_body_size"):
        WsgiToAsgi(_generator_app(), max_request_body_size=-1)

"""HttpTester against hand-written ASGI applications."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from asgiref.testing import HttpResponse, HttpTester, ProtocolViolation

pytestmark = pytest.mark.anyio

Receive = Any
Send = Any

EXPECTED_TIMEOUT = TimeoutError if sys.version_info >= (3, 11) else asyncio.TimeoutError


async def read_body(receive: Receive) -> tuple[bytes, list[bool]]:
    body = b""
    flags: list[bool] = []
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        body += message["body"]
        flags.append(message["more_body"])
        if not message["more_body"]:
            return body, flags


def recording_echo(scopes: list[dict[str, Any]], after: list[dict[str, Any]]) -> Any:
    """Echo the body, report how it arrived, then record what receive() gives next."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        scopes.append(scope)
        body, flags = await read_body(receive)
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"x-chunks", str(len(flags)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body[:2], "more_body": True})
        await send({"type": "http.response.body", "body": body[2:]})
        after.append(await receive())

    return app


async def test_request_with_one_body_message() -> None:
    scopes: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    response = await HttpTester(recording_echo(scopes, after)).request(
        "POST", "/echo", body=b"hello"
    )
    assert response == HttpResponse(
        201, [(b"content-type", b"application/octet-stream"), (b"x-chunks", b"1")], b"hello"
    )
    assert response.header("Content-Type") == b"application/octet-stream"
    assert response.header(b"x-missing") is None
    # Like a server, the tester reports the client gone once the response is complete.
    assert after == [{"type": "http.disconnect"}]


async def test_request_with_a_chunked_body() -> None:
    scopes: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    tester = HttpTester(recording_echo(scopes, after), validate=True)
    response = await tester.request("PUT", "/echo", body=[b"ab", b"", b"cd", b"e"])
    assert response.body == b"abcde"
    assert response.header("x-chunks") == b"4"
    assert (b"content-length", b"5") in scopes[0]["headers"]


async def test_empty_chunk_list_sends_one_empty_message() -> None:
    scopes: list[dict[str, Any]] = []
    response = await HttpTester(recording_echo(scopes, [])).request("POST", "/", body=[])
    assert response.body == b""
    assert response.header("x-chunks") == b"1"
    assert all(name != b"content-length" for name, _ in scopes[0]["headers"])


async def test_the_scope_is_what_a_server_would_build() -> None:
    scopes: list[dict[str, Any]] = []
    tester = HttpTester(
        recording_echo(scopes, []),
        scheme="https",
        server=("example.com", 8443),
        client=("10.0.0.1", 4000),
        root_path="/app",
        state={"pool": "db"},
        extensions={"http.response.trailers": {}},
    )
    await tester.request(
        "get",
        "/app/caf\u00e9 menu/a%2Fb?q=1&r=caf\u00e9",
        headers=[("X-Token", "abc"), (b"Accept", b"*/*")],
    )
    scope = scopes[0]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/app/caf\u00e9 menu/a/b"
    assert scope["raw_path"] == b"/app/caf%C3%A9%20menu/a%2Fb"
    assert scope["query_string"] == b"q=1&r=caf%C3%A9"
    assert scope["root_path"] == "/app"
    assert scope["headers"] == [
        (b"host", b"example.com:8443"),
        (b"x-token", b"abc"),
        (b"accept", b"*/*"),
    ]
    assert scope["client"] == ("10.0.0.1", 4000)
    assert scope["server"] == ("example.com", 8443)
    assert scope["state"] == {"pool": "db"}
    assert scope["state"] is not tester.state
    assert scope["extensions"] == {"http.response.trailers": {}}


async def test_explicit_host_and_query_string_are_kept() -> None:
    scopes: list[dict[str, Any]] = []
    tester = HttpTester(recording_echo(scopes, []))
    await tester.request("POST", "/", query_string=b"raw=%20", headers=[(b"host", b"h")], body=b"x")
    assert scopes[0]["query_string"] == b"raw=%20"
    assert scopes[0]["headers"] == [(b"host", b"h"), (b"content-length", b"1")]
    assert "state" not in scopes[0]


async def test_stream_yields_chunks_as_the_application_sends_them() -> None:
    next_chunk = anyio.Event()
    events: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await next_chunk.wait()
        await send({"type": "http.response.body", "body": b"second", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        events.append(await receive())

    tester = HttpTester(app, validate=True)
    async with tester.stream("GET", "/") as response:
        assert response.status == 200
        chunks = response.__aiter__()
        assert await chunks.__anext__() == b"first"
        completion = [response.complete]
        next_chunk.set()
        assert await chunks.__anext__() == b"second"
        with pytest.raises(StopAsyncIteration):
            await chunks.__anext__()
        completion.append(response.complete)
        assert completion == [False, True]
    assert events == [{"type": "http.disconnect"}]


async def test_leaving_a_stream_early_disconnects_the_client() -> None:
    disconnected = anyio.Event()

    async def endless(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200})

        async def produce() -> None:
            while True:
                await send({"type": "http.response.body", "body": b"tick", "more_body": True})
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as group:
            group.start_soon(produce)
            assert await receive() == {"type": "http.disconnect"}
            disconnected.set()
            group.cancel_scope.cancel()

    async with HttpTester(endless).stream("GET", "/") as response:
        async for chunk in response:
            assert chunk == b"tick"
            break
    assert disconnected.is_set()


async def test_read_returns_the_rest_of_the_body() -> None:
    async with HttpTester(recording_echo([], [])).stream("POST", "/", body=b"abcdef") as response:
        assert response.header("x-chunks") == b"1"
        assert await response.read() == b"abcdef"
        assert await response.read() == b""


async def test_trailers_and_debug_messages() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await read_body(receive)
        await send({"type": "http.response.debug", "info": {"template": "page.html"}})
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"data"})
        await send(
            {
                "type": "http.response.trailers",
                "headers": [(b"x-sum", b"42")],
                "more_trailers": True,
            }
        )
        await send({"type": "http.response.trailers", "headers": [(b"x-end", b"1")]})

    tester = HttpTester(
        app,
        validate=True,
        extensions={"http.response.trailers": {}, "http.response.debug": {}},
    )
    response = await tester.get("/")
    assert response.body == b"data"
    assert response.trailers == [(b"x-sum", b"42"), (b"x-end", b"1")]


async def test_application_error_before_the_response_propagates() -> None:
    async def failing(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        raise ZeroDivisionError("in the view")

    with pytest.raises(ZeroDivisionError, match="in the view"):
        await HttpTester(failing).get("/")


async def test_application_error_after_the_response_propagates() -> None:
    async def failing_late(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})
        raise RuntimeError("in cleanup")

    with pytest.raises(RuntimeError, match="in cleanup"):
        await HttpTester(failing_late).get("/")


async def test_error_in_the_test_block_wins_and_stops_the_application() -> None:
    stopped = anyio.Event()

    async def slow(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        try:
            await anyio.sleep_forever()
        finally:
            stopped.set()

    with pytest.raises(LookupError, match="test failed"):
        async with HttpTester(slow).stream("GET", "/"):
            raise LookupError("test failed")
    assert stopped.is_set()


async def test_silent_application_times_out() -> None:
    async def silent(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await anyio.sleep_forever()

    with pytest.raises(EXPECTED_TIMEOUT):
        await HttpTester(silent, timeout=0.02).get("/")


async def test_unexpected_messages_are_reported_without_validation() -> None:
    async def confused(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})

    with pytest.raises(ProtocolViolation) as caught:
        await HttpTester(confused).get("/")
    assert str(caught.value) == (
        "ASGI message #1 sent by the application ('websocket.accept'):"
        " expected 'http.response.start', got 'websocket.accept'"
    )

    async def body_as_text(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": "text"})

    with pytest.raises(ProtocolViolation, match="'body' must be bytes, got str 'text'"):
        await HttpTester(body_as_text).get("/")


async def test_validation_catches_a_message_after_completion() -> None:
    async def chatty(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"done"})
        await send({"type": "http.response.body", "body": b"more"})

    # Without validation the extra message goes unnoticed ...
    assert (await HttpTester(chatty).get("/")).body == b"done"
    # ... with it, the request fails naming the message and the rule.
    with pytest.raises(ProtocolViolation) as caught:
        await HttpTester(chatty, validate=True).get("/")
    assert caught.value.index == 3
    assert "the response is already complete" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        ({"body": "text"}, TypeError, "body must be bytes or an iterable of bytes chunks, got str"),
        ({"body": [b"a", "b"]}, TypeError, "body chunk 1 must be bytes, got str"),
        ({"headers": [("x-a", "\u20ac")]}, ValueError, "is not latin-1"),
        ({"headers": [("x-a", 1)]}, TypeError, "header values must be str or bytes, got int"),
        ({"headers": [("x-a",)]}, TypeError, "each header must be a (name, value) pair"),
        ({"path": "relative"}, ValueError, "path must start with '/', got 'relative'"),
        ({"path": b"/"}, TypeError, "path must be a str, got bytes"),
        ({"path": "/?a=1", "query_string": b"b=2"}, ValueError, "not both"),
        ({"query_string": 12}, TypeError, "query_string must be str or bytes, got int"),
        ({"method": "get me"}, ProtocolViolation, "'method' must be an upper-case HTTP token"),
    ],
)
async def test_bad_request_arguments_get_clear_errors(
    call: dict[str, Any], error: type[Exception], text: str
) -> None:
    started: list[bool] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started.append(True)

    arguments: dict[str, Any] = {"method": "POST", "path": "/"} | call
    with pytest.raises(error) as caught:
        await HttpTester(app).request(**arguments)
    assert text in str(caught.value)
    assert started == []


async def test_built_scope_is_validated() -> None:
    tester = HttpTester(recording_echo([], []), http_version="1.2")
    with pytest.raises(ProtocolViolation, match="'http_version' must be one of"):
        tester.build_scope("GET", "/")

"""Threads, request body streaming, backpressure, disconnects and limits, in-process."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import re
import threading
import tracemalloc
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import asgiref.wsgi
import pytest
from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from asgiref.wsgi import WsgiToAsgi


def exact(message: str) -> str:
    """A pytest.raises pattern matching ``message`` and nothing else."""
    return "^" + re.escape(message) + "$"


pytestmark = pytest.mark.anyio

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
FINAL = {"type": "http.response.body"}
KIB = 1024
MIB = 1024 * KIB
# Generous bounds on what the adapter may hold: its buffers are 256 KiB each way.
MEMORY_BOUND = 4 * MIB
# More than the adapter reads before the application starts (64 KiB): the application
# runs while the rest of such a body is still to come.
BIG = b"p" * (64 * KIB)
# Wait bound for events that must happen promptly; reaching it means a bug, not slowness.
PATIENCE = 10


def scope(**overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [],
    }
    result.update(overrides)
    return result


def requests(chunks: Iterable[bytes]) -> list[dict[str, Any]]:
    items = list(chunks)
    return [
        {"type": "http.request", "body": chunk, "more_body": i < len(items) - 1}
        for i, chunk in enumerate(items)
    ]


class Server:
    """An in-process ASGI server for one request: scripted receive, recording send."""

    def __init__(self, incoming: Iterable[dict[str, Any]]) -> None:
        self.incoming = list(incoming)
        self.sent: list[dict[str, Any]] = []
        self.complete = anyio.Event()
        self.receive_calls = 0

    async def receive(self) -> dict[str, Any]:
        self.receive_calls += 1
        if self.incoming:
            return self.incoming.pop(0)
        await self.complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete.set()

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


class Tracked:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.closes = 0
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self.closes += 1
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self.closed.set()


async def wait_in_thread(event: threading.Event) -> bool:
    return await anyio.to_thread.run_sync(event.wait, PATIENCE)


async def cancel_once(
    request: Callable[[], Awaitable[None]], when: Callable[[], Awaitable[bool]]
) -> bool:
    """Run ``request`` as a task, cancel it once ``when()`` returned True; True if the
    cancellation reached the request (its await ended with the backend's cancellation)."""
    cancelled: list[bool] = []

    async def run(scope: anyio.CancelScope) -> None:
        with scope:
            try:
                await request()
            except anyio.get_cancelled_exc_class():
                cancelled.append(True)
                raise

    with anyio.fail_after(PATIENCE * 2):
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()
            group.start_soon(run, scope)
            assert await when()
            scope.cancel()
    return cancelled == [True]


# --------------------------------------------------------------------------- threads


@pytest.mark.ours_only("wsgi-parallel-requests")
async def test_requests_run_in_parallel_on_threads_of_their_own() -> None:
    count = 8
    # Each application waits until all of them run at once: with one thread it would break.
    barrier = threading.Barrier(count, timeout=PATIENCE)

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        barrier.wait()
        start_response("200 OK", [])
        return [threading.current_thread().name.encode()]

    adapter = WsgiToAsgi(app)
    servers = [Server(requests([b""])) for _ in range(count)]
    with anyio.fail_after(PATIENCE * 2):
        async with anyio.create_task_group() as group:
            for server in servers:
                group.start_soon(adapter, scope(), server.receive, server.send)
    names = {s.body for s in servers}
    assert len(names) == count
    assert threading.current_thread().name.encode() not in names


@pytest.mark.ours_only("wsgi-parallel-requests")
async def test_a_long_streaming_response_does_not_hold_up_others() -> None:
    release = threading.Event()

    def streaming(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"first"
        if not release.wait(PATIENCE):
            raise AssertionError("never released")
        yield b"last"

    def quick(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"quick"]

    slow_server = Server(requests([b""]))
    first_sent = anyio.Event()
    original_send = slow_server.send
    slow_done = anyio.Event()

    async def send(message: dict[str, Any]) -> None:
        await original_send(message)
        if message.get("body") == b"first":
            first_sent.set()

    async def slow() -> None:
        await WsgiToAsgi(streaming)(scope(), slow_server.receive, send)
        slow_done.set()

    with anyio.fail_after(PATIENCE * 2):
        async with anyio.create_task_group() as group:
            group.start_soon(slow)
            await first_sent.wait()
            quick_server = Server(requests([b""]))
            await WsgiToAsgi(quick)(scope(), quick_server.receive, quick_server.send)
            assert quick_server.body == b"quick"
            assert not slow_done.is_set()
            release.set()
    assert slow_server.body == b"firstlast"


@pytest.mark.ours_only("wsgi-parallel-requests")
async def test_max_workers_bounds_concurrency() -> None:
    lock = threading.Lock()
    active = 0
    peak = 0
    first_running = threading.Event()
    release = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        first_running.set()
        release.wait(PATIENCE)
        with lock:
            active -= 1
        start_response("200 OK", [])
        return [b"ok"]

    adapter = WsgiToAsgi(app, max_workers=1)
    servers = [Server(requests([b""])) for _ in range(4)]
    with anyio.fail_after(PATIENCE * 2):
        async with anyio.create_task_group() as group:
            for server in servers:
                group.start_soon(adapter, scope(), server.receive, server.send)
            assert await wait_in_thread(first_running)
            release.set()
    assert peak == 1
    assert all(s.body == b"ok" for s in servers)


async def test_context_variables_reach_the_application_and_flow_back() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    seen: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(request_id.get("missing"))
        request_id.set("changed in the thread")
        start_response("200 OK", [])
        return []

    request_id.set("from the caller")
    server = Server(requests([b""]))
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert seen == ["from the caller"]
    # As with any sync_to_async function (and the published adapter).
    assert request_id.get() == "changed in the thread"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # async_to_sync from a plain thread
@pytest.mark.parametrize("caller", ["ThreadSensitiveContext", "async_to_sync"])
async def test_thread_sensitive_work_in_the_servers_calls_runs_on_the_callers_thread(
    caller: str,
) -> None:
    # Inside a caller's ThreadSensitiveContext or async_to_sync call, the application runs
    # on the thread that caller chose, and waits there while its chunks are sent: the
    # thread-sensitive work of the server's send() and receive() must run on that thread
    # too (as in asgiref 3.13.0), not wait for it.
    app_threads: set[str] = set()

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        app_threads.add(threading.current_thread().name)
        environ["wsgi.input"].read()
        start_response("200 OK", [])
        yield b"a"
        yield b"b"

    def current_thread_name() -> str:
        return threading.current_thread().name

    server_threads: list[str] = []

    async def request() -> None:
        server = Server(requests([BIG, BIG]))

        async def receive() -> dict[str, Any]:
            server_threads.append(await sync_to_async(current_thread_name)())
            return await server.receive()

        async def send(message: dict[str, Any]) -> None:
            server_threads.append(await sync_to_async(current_thread_name)())
            await server.send(message)

        await WsgiToAsgi(app)(scope(), receive, send)
        sent.extend(server.sent)

    sent: list[dict[str, Any]] = []

    async def in_a_context() -> None:
        async with ThreadSensitiveContext():
            await request()

    if caller == "ThreadSensitiveContext":
        await in_a_context()
    else:
        await anyio.to_thread.run_sync(async_to_sync(request))
    assert [m.get("body", b"") for m in sent] == [b"", b"a", b"b", b""]
    assert len(app_threads) == 1
    assert set(server_threads) == app_threads


# --------------------------------------------------------------------------- the next request
#
# asyncio runs every callback in a copy of the context current when it was scheduled
# (call_soon, call_later, add_reader). uvicorn resumes reading a paused connection from
# inside send() when a response completes (reading is paused when a pipelined request
# waits, or when the body buffer passed 64 KiB and nobody called receive() again), and the
# connection's next request is then started, as a task, from that reader callback: in a
# copy of the context send() was called in. These servers record that context at every
# send() and receive() call, and start the next request in it, after the first returned.


class ContextRecordingServer(Server):
    """``Server`` that records the context of every call, where a callback would capture it."""

    def __init__(self, incoming: Iterable[dict[str, Any]]) -> None:
        super().__init__(incoming)
        self.contexts: list[tuple[str, contextvars.Context]] = []

    async def receive(self) -> dict[str, Any]:
        self.contexts.append(("receive", contextvars.copy_context()))
        return await super().receive()

    async def send(self, message: dict[str, Any]) -> None:
        self.contexts.append((f"send {message['type']}", contextvars.copy_context()))
        await super().send(message)


def list_response(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [])
    return [b"list"]


def streamed_response(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [])
    yield b"stre"
    yield b"amed"


def written_response(environ: Environ, start_response: StartResponse) -> list[bytes]:
    write = start_response("200 OK", [])
    write(b"written")
    return []


def reads_the_body(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    size = len(environ["wsgi.input"].read())
    start_response("200 OK", [])
    yield str(size).encode()
    yield b" read"


def leaves_the_body(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    # Returns while most of the body is still to be received.
    start_response("200 OK", [])
    yield b"left"


FIRST_REQUESTS = {
    "list": (list_response, [b"small"]),
    "streamed": (streamed_response, [b"small"]),
    "written": (written_response, [b"small"]),
    "reads a big body": (reads_the_body, [BIG] * 6),
    "returns before the body is read": (leaves_the_body, [BIG] * 6),
}


@pytest.mark.ours_only("wsgi-server-called-in-the-calls-context")
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # asyncio's callbacks carry the context
@pytest.mark.parametrize("first", sorted(FIRST_REQUESTS))
async def test_a_request_started_from_a_callback_of_the_previous_one_is_answered(
    first: str,
) -> None:
    # asgiref 3.13.0 calls send() from the WSGI thread through AsyncToSync, whose task on
    # the loop holds that thread's CurrentThreadExecutor in AsyncToSync.executors; the
    # next request's run_wsgi_app finds it there, submits to it after it quit, and raises
    # RuntimeError("CurrentThreadExecutor already quit or is broken"): uvicorn answers 500.
    app, body = FIRST_REQUESTS[first]
    adapter = WsgiToAsgi(app)
    first_server = ContextRecordingServer(requests(body))
    await adapter(scope(), first_server.receive, first_server.send)
    assert first_server.sent[-1] == FINAL
    assert first_server.contexts
    loop = asyncio.get_running_loop()
    for where, context in first_server.contexts:
        server = Server(requests([b"next"]))
        # As the reader callback scheduled in that call would start it.
        task = context.run(loop.create_task, adapter(scope(), server.receive, server.send))
        await asyncio.wait_for(task, PATIENCE)
        assert server.sent[0]["status"] == 200, where
        assert server.sent[-1] == FINAL, where


@pytest.mark.ours_only("wsgi-server-called-in-the-calls-context")
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # asyncio's callbacks carry the context
@pytest.mark.parametrize("first", sorted(FIRST_REQUESTS))
async def test_the_next_request_does_not_see_the_previous_ones_context(first: str) -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    local = Local()
    seen: list[tuple[str, str]] = []
    app, body = FIRST_REQUESTS[first]

    def recording(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        seen.append((request_id.get("unset"), getattr(local, "user", "unset")))
        request_id.set(environ["PATH_INFO"])
        local.user = environ["PATH_INFO"]
        return app(environ, start_response)

    adapter = WsgiToAsgi(recording)
    first_server = ContextRecordingServer(requests(body))
    await adapter(scope(path="/first"), first_server.receive, first_server.send)
    loop = asyncio.get_running_loop()
    for _, context in first_server.contexts:
        server = Server(requests([b"next"]))
        coroutine = adapter(scope(path="/next"), server.receive, server.send)
        await asyncio.wait_for(context.run(loop.create_task, coroutine), PATIENCE)
    assert seen == [("unset", "unset")] * (1 + len(first_server.contexts))
    # The ASGI caller itself still gets the application's changes, as from sync_to_async.
    assert request_id.get() == "/first"


# --------------------------------------------------------------------------- request body


LINES = b"first line\nsecond\n\n" + b"x" * 100 + b"\nno newline at the end"


def _chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


READERS: dict[str, Callable[[Any], object]] = {
    "read": lambda f: f.read(),
    "read-none": lambda f: f.read(None),
    "read-sizes": lambda f: [f.read(n) for n in (0, 1, 5, 50, 1000, 10)],
    "readline": lambda f: [f.readline() for _ in range(7)],
    "readline-sized": lambda f: [f.readline(4) for _ in range(40)],
    "readlines": lambda f: f.readlines(),
    "readlines-hint": lambda f: [f.readlines(15), f.readlines()],
    "iterate": list,
    "mixed": lambda f: [f.readline(), f.read(3), f.readline(), f.read()],
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("chunk_size", [1, 7, 64, 10_000])
async def test_wsgi_input_reads_like_a_file(reader: str, chunk_size: int) -> None:
    results: list[object] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        results.append(READERS[reader](environ["wsgi.input"]))
        start_response("200 OK", [])
        return []

    server = Server(requests(_chunked(LINES, chunk_size)))
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert results == [READERS[reader](io.BytesIO(LINES))]


async def test_empty_body_messages_are_skipped() -> None:
    got: list[bytes] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        got.append(environ["wsgi.input"].read())
        got.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return []

    server = Server(requests([b"", b"ab", b"", b"c", b""]))
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert got == [b"abc", b""]


@pytest.mark.ours_only("wsgi-streamed-request-body")
async def test_the_application_starts_before_the_body_is_complete() -> None:
    started = threading.Event()
    got: list[bytes] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        started.set()
        got.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return []

    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": BIG, "more_body": True}
        if calls == 2:
            # The rest is only sent once the application runs: a buffering adapter hangs here.
            assert await wait_in_thread(started)
            return {"type": "http.request", "body": b"part two", "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await WsgiToAsgi(app)(scope(), receive, send)
    assert got == [BIG + b"part two"]


async def test_upload_memory_stays_bounded() -> None:
    total = 16 * MIB
    chunk = 64 * KIB
    sizes: list[int] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        size = 0
        while piece := stream.read(chunk):
            size += len(piece)
        sizes.append(size)
        start_response("200 OK", [])
        return []

    left = total

    async def receive() -> dict[str, Any]:
        nonlocal left
        if left <= 0:
            await anyio.sleep_forever()
        left -= chunk
        # A fresh chunk per message, handed over at once: the adapter must stop asking.
        return {"type": "http.request", "body": b"u" * chunk, "more_body": left > 0}

    async def send(message: dict[str, Any]) -> None:
        pass

    tracemalloc.start()
    try:
        await WsgiToAsgi(app)(scope(), receive, send)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sizes == [total]
    assert peak < MEMORY_BOUND


async def test_download_memory_stays_bounded_and_the_app_waits_for_the_client() -> None:
    chunk = 64 * KIB
    count = 256  # 16 MiB
    produced = 0
    # One chunk being sent while the next is made, at most.
    most_ahead = 0

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        nonlocal produced
        start_response("200 OK", [])
        for _ in range(count):
            produced += 1
            yield b"d" * chunk

    sent_chunks = 0
    received = 0

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal sent_chunks, received, most_ahead
        if message.get("body"):
            sent_chunks += 1
            received += len(message["body"])
            most_ahead = max(most_ahead, produced - sent_chunks)
        # A slow client: every message costs the server a turn of the loop.
        await anyio.lowlevel.checkpoint()

    tracemalloc.start()
    try:
        await WsgiToAsgi(app)(scope(method="GET", headers=[]), _first_then(receive), send)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received == count * chunk
    assert most_ahead <= 2
    assert peak < MEMORY_BOUND


def _first_then(receive: Receive, body: bytes = b"") -> Receive:
    """A receive that answers ``body`` first (more to come if any), then calls ``receive``."""
    first = True

    async def wrapped() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": body, "more_body": bool(body)}
        return await receive()

    return wrapped


# --------------------------------------------------------------------------- disconnects


@pytest.mark.ours_only("wsgi-streamed-request-body")
async def test_disconnect_while_reading_the_body() -> None:
    errors: list[BaseException] = []

    def reading() -> Iterator[bytes]:
        try:
            environ_holder[0]["wsgi.input"].read()
        except OSError as exc:
            errors.append(exc)
            raise
        yield b"unreachable"

    environ_holder: list[Environ] = []
    tracked = Tracked(reading())

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        environ_holder.append(environ)
        start_response("200 OK", [])
        return tracked

    server = Server([*requests([BIG, b"rest"])[:1], {"type": "http.disconnect"}])
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert len(errors) == 1
    assert isinstance(errors[0], asgiref.wsgi.ClientDisconnected)
    assert isinstance(errors[0], OSError)
    assert "disconnected" in str(errors[0])
    assert tracked.closes == 1
    assert server.sent == []


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
async def test_disconnect_while_sending_the_response() -> None:
    gone = anyio.Event()
    exits: list[str] = []

    def endless() -> Iterator[bytes]:
        try:
            for _ in range(100_000):
                yield b"." * 1024
        except GeneratorExit:
            exits.append("closed")
            raise

    tracked = Tracked(endless())

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    sent = 0
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal sent
        sent += 1
        if sent == 10:
            gone.set()
        if gone.is_set():
            # The transport is gone: the server's send returns without doing anything.
            await anyio.lowlevel.checkpoint()

    await WsgiToAsgi(app)(scope(method="GET"), receive, send)
    assert tracked.closes == 1
    assert exits == ["closed"]
    assert sent < 2000


async def _respond_after_a_waiting_disconnect(streamed: bool) -> Server:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        return (chunk for chunk in [b"a", b"b"]) if streamed else [b"a", b"b"]

    server = Server([*requests([b"body"]), {"type": "http.disconnect"}])
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    return server


# Under trio the disconnect watch and the first send race (trio randomises the order
# of ready tasks), so whether a disconnect already waiting stops a streamed response is
# not fixed there; asyncio runs the watch first, as these tests expect.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("streamed", [False, True], ids=["list", "generator"])
async def test_disconnect_before_the_response_started_still_sends_all_of_it(
    streamed: bool,
) -> None:
    # The disconnect is waiting when the adapter first looks for one: it still sends the
    # whole response, as the published adapter does (the client may only have half-closed).
    server = await _respond_after_a_waiting_disconnect(streamed)
    assert [m.get("body") for m in server.sent] == [None, b"a", b"b", None]


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # see the comment above
async def test_a_streamed_response_reads_the_waiting_disconnect() -> None:
    # Published: nothing is read once the body is complete.
    server = await _respond_after_a_waiting_disconnect(streamed=True)
    assert server.incoming == []


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
async def test_disconnect_during_a_streamed_response_stops_and_closes_it() -> None:
    tracked = Tracked(b"tick" for _ in range(10_000_000))

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    communicator = ApplicationCommunicator(WsgiToAsgi(app), scope(method="GET"))
    await communicator.send_input({"type": "http.request"})
    assert (await communicator.receive_output(PATIENCE))["type"] == "http.response.start"
    assert (await communicator.receive_output(PATIENCE))["body"] == b"tick"
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(PATIENCE)
    assert tracked.closes == 1


@pytest.mark.ours_only("wsgi-streamed-request-body")
async def test_cancelled_request_unblocks_the_reading_thread() -> None:
    finished = threading.Event()
    reading = threading.Event()
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        reading.set()
        try:
            environ["wsgi.input"].read()
        except OSError as exc:
            errors.append(exc)
        finally:
            finished.set()
        start_response("200 OK", [])
        return []

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        pass

    cancelled = await cancel_once(
        lambda: WsgiToAsgi(app)(scope(), _first_then(receive, BIG), send),
        lambda: wait_in_thread(reading),
    )
    assert cancelled
    assert await wait_in_thread(finished)
    assert len(errors) == 1
    assert isinstance(errors[0], asgiref.wsgi.ClientDisconnected)


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
async def test_cancelled_request_unblocks_the_sending_thread() -> None:
    first_sent = anyio.Event()
    tracked = Tracked(b"z" * 65536 for _ in range(1000))

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    async def send(message: dict[str, Any]) -> None:
        if message.get("body"):
            first_sent.set()
            await anyio.sleep_forever()  # a client that never drains

    server = Server(requests([b""]))

    async def until_first_sent() -> bool:
        await first_sent.wait()
        return True

    cancelled = await cancel_once(
        lambda: WsgiToAsgi(app)(scope(method="GET"), server.receive, send), until_first_sent
    )
    assert cancelled
    assert await wait_in_thread(tracked.closed)
    assert tracked.closes == 1


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
async def test_send_failing_with_oserror_ends_the_request_quietly() -> None:
    tracked = Tracked(b"c" * 1024 for _ in range(10_000))

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    sends = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal sends
        sends += 1
        if sends >= 3:
            raise ConnectionResetError("peer went away")

    server = Server(requests([b""]))
    await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    assert tracked.closes == 1
    assert sends < 10_000


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
async def test_the_application_sees_a_failed_send_as_client_disconnected() -> None:
    seen: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        write = start_response("200 OK", [])
        try:
            for _ in range(10_000):
                write(b"w" * 1024)
        except OSError as exc:
            seen.append(exc)
        return iter([])

    async def send(message: dict[str, Any]) -> None:
        raise ConnectionResetError("peer went away")

    server = Server(requests([b""]))
    await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    assert len(seen) == 1
    assert isinstance(seen[0], asgiref.wsgi.ClientDisconnected)
    assert isinstance(seen[0].__cause__, ConnectionResetError)


class CountedChunks(Tracked):
    """``count`` numbered chunks; ``made`` says how many the adapter asked for."""

    def __init__(self, count: int) -> None:
        super().__init__(b"%d;" % i for i in range(count))
        self.made = 0

    def __next__(self) -> bytes:
        chunk = super().__next__()
        self.made += 1
        return chunk


@pytest.mark.ours_only("wsgi-streamed-response-sent-ahead")
@pytest.mark.parametrize("failing", [1, 2, 5])
async def test_a_failed_send_stops_the_iterable_by_its_next_chunk(failing: int) -> None:
    chunks = CountedChunks(1000)

    def app(environ: Environ, start_response: StartResponse) -> CountedChunks:
        start_response("200 OK", [])
        return chunks

    bodies: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message["body"])
            if len(bodies) == failing:
                raise ConnectionResetError("peer went away")

    server = Server(requests([b""]))
    await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    # Nothing is sent after the failure; the chunk made meanwhile is dropped.
    assert bodies == [b"%d;" % i for i in range(failing)]
    assert failing <= chunks.made <= failing + 1
    assert chunks.closes == 1


@pytest.mark.ours_only("wsgi-streamed-response-sent-ahead")
@pytest.mark.parametrize("writes", [1, 2, 3])
async def test_a_failed_write_raises_by_the_next_write_or_the_return(writes: int) -> None:
    raised_at: list[int] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        for number in range(1, writes + 1):
            try:
                write(b"w%d" % number)
            except asgiref.wsgi.ClientDisconnected:
                raised_at.append(number)
                break
        return []

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            raise ConnectionResetError("peer went away")

    server = Server(requests([b""]))
    await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    # The first write's send fails: that write or the next raises (with one write only,
    # the application may return first); nothing more is sent, not even the final message.
    assert raised_at in (([1], [2]) if writes > 1 else ([], [1]))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the server's loop is asyncio's
async def test_streamed_chunks_go_out_in_order_with_one_at_most_ahead() -> None:
    count = 200
    made = 0
    behind: list[int] = []
    bodies: list[bytes] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        nonlocal made
        start_response("200 OK", [])
        for i in range(count):
            # Chunks made so far minus chunks the server has: this one is not counted yet.
            behind.append(made - len(bodies))
            made += 1
            yield b"%d;" % i

    async def send(message: dict[str, Any]) -> None:
        if message.get("body"):
            bodies.append(message["body"])
        for _ in range(3):  # a server that takes a few turns of the loop per message
            await asyncio.sleep(0)

    server = Server(requests([b""]))
    await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    assert bodies == [b"%d;" % i for i in range(count)]
    assert max(behind) <= 1


@pytest.mark.ours_only("wsgi-streamed-response-stops-on-disconnect")
async def test_application_failure_after_the_client_left_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class FailingClose(Tracked):
        def close(self) -> None:
            super().close()
            raise RuntimeError("cleanup failed")

    tracked = FailingClose(b"c" * 1024 for _ in range(10_000))

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    async def send(message: dict[str, Any]) -> None:
        raise ConnectionResetError("peer went away")

    server = Server(requests([b""]))
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    assert tracked.closes == 1
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "cleanup failed" in str(logged[0].exc_info[1])


@pytest.mark.ours_only("wsgi-close-called")
async def test_send_failing_otherwise_propagates() -> None:
    tracked = Tracked([b"a", b"b"])

    def app(environ: Environ, start_response: StartResponse) -> Tracked:
        start_response("200 OK", [])
        return tracked

    async def send(message: dict[str, Any]) -> None:
        raise RuntimeError("server bug")

    server = Server(requests([b""]))
    with pytest.raises(RuntimeError, match="server bug"):
        await WsgiToAsgi(app)(scope(method="GET"), server.receive, send)
    assert tracked.closes == 1


@pytest.mark.ours_only("wsgi-streamed-request-body")
async def test_reading_after_the_request_finished_raises_instead_of_blocking() -> None:
    kept: list[Any] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        kept.append(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"answered without reading"]

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    server = Server([])
    await WsgiToAsgi(app)(scope(), _first_then(receive, BIG), server.send)
    with pytest.raises(asgiref.wsgi.ClientDisconnected, match="finished"):
        await anyio.to_thread.run_sync(kept[0].read)


# --------------------------------------------------------------------------- protocol errors


@pytest.mark.ours_only("wsgi-streamed-request-body")
async def test_non_request_message_during_the_body() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except ValueError as exc:
            errors.append(exc)
            raise
        raise AssertionError("unreachable")

    server = Server(
        [{"type": "http.request", "body": BIG, "more_body": True}, {"type": "websocket.receive"}]
    )
    with pytest.raises(ValueError, match=exact("WSGI wrapper received a non-HTTP-request message")):
        await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert len(errors) == 1


NOT_A_REQUEST = (ValueError, exact("WSGI wrapper received a non-HTTP-request message"))
# Published: KeyError('type'), TypeError from joining str to bytes, TypeError from indexing a str.
CHECKED_MESSAGE = pytest.mark.ours_only("wsgi-request-message-checks")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param({"type": "http.response.start"}, NOT_A_REQUEST, id="not-a-request"),
        pytest.param({"body": b"no type"}, NOT_A_REQUEST, id="no-type", marks=CHECKED_MESSAGE),
        pytest.param(
            {"type": "http.request", "body": "text"},
            (TypeError, "body must be bytes"),
            id="str-body",
            marks=CHECKED_MESSAGE,
        ),
        pytest.param(
            "http.request",
            (TypeError, "receive\\(\\) must return a message dict, got str"),
            id="not-a-dict",
            marks=CHECKED_MESSAGE,
        ),
    ],
)
async def test_bad_message_before_the_app_starts_is_raised_without_calling_it(
    message: Any, expected: tuple[type[Exception], str]
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise AssertionError("not called")

    server = Server([message])
    with pytest.raises(expected[0], match=expected[1]):
        await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert server.sent == []


@pytest.mark.ours_only("wsgi-streamed-request-body")
async def test_non_bytes_request_body_while_the_app_reads() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except OSError as exc:
            errors.append(exc)
        start_response("200 OK", [])
        return []

    server = Server(
        [
            {"type": "http.request", "body": BIG, "more_body": True},
            {"type": "http.request", "body": "text", "more_body": False},
        ]
    )
    with pytest.raises(TypeError, match="body must be bytes"):
        await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert isinstance(errors[0], asgiref.wsgi.ClientDisconnected)


async def test_bytes_like_request_bodies_are_accepted() -> None:
    got: list[bytes] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        got.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return []

    server = Server(
        [
            {"type": "http.request", "body": bytearray(b"ab"), "more_body": True},
            {"type": "http.request", "body": memoryview(b"cd"), "more_body": False},
        ]
    )
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert got == [b"abcd"]
    assert type(got[0]) is bytes


async def test_odd_message_after_the_body_is_ignored() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        yield b"b"

    server = Server([*requests([b"x"]), {"type": "http.request", "body": b"late"}])
    await WsgiToAsgi(app)(scope(), server.receive, server.send)
    assert server.body == b"ab"


# --------------------------------------------------------------------------- body limit


@pytest.mark.ours_only("wsgi-request-body-limit")
async def test_declared_length_over_the_limit_is_answered_413_without_the_app() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise AssertionError("not called")

    server = Server(requests([b"x" * 11]))
    the_scope = scope(headers=[(b"content-length", b"11")])
    await WsgiToAsgi(app, max_request_body_size=10)(the_scope, server.receive, server.send)
    assert server.sent[0] == {
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"text/plain")],
    }
    assert b"10 bytes" in server.sent[1]["body"]
    assert "more_body" not in server.sent[1]


@pytest.mark.ours_only("wsgi-request-body-limit")
async def test_body_over_the_limit_before_the_app_starts_is_answered_413() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise AssertionError("not called")

    server = Server(requests([b"x" * 600, b"y" * 600, b"z" * 600]))
    await WsgiToAsgi(app, max_request_body_size=1000)(scope(), server.receive, server.send)
    assert server.sent[0]["status"] == 413
    assert len(server.sent) == 2


@pytest.mark.ours_only("wsgi-request-body-limit")
async def test_streamed_body_over_the_limit_is_answered_413() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except asgiref.wsgi.RequestBodyTooLarge as exc:
            errors.append(exc)
            raise
        raise AssertionError("unreachable")

    server = Server(requests([BIG, b"y" * 600, b"z" * 600]))
    limit = len(BIG) + 1000
    await WsgiToAsgi(app, max_request_body_size=limit)(scope(), server.receive, server.send)
    assert server.sent[0]["status"] == 413
    assert len(server.sent) == 2
    assert len(errors) == 1
    assert isinstance(errors[0], OSError)


@pytest.mark.ours_only("wsgi-request-body-limit")
async def test_body_at_the_limit_is_accepted() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        data = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [str(len(data)).encode()]

    server = Server(requests([b"x" * 500, b"y" * 500]))
    the_scope = scope(headers=[(b"content-length", b"1000")])
    await WsgiToAsgi(app, max_request_body_size=1000)(the_scope, server.receive, server.send)
    assert server.sent[0]["status"] == 200
    assert server.body == b"1000"


@pytest.mark.ours_only("wsgi-request-body-limit")
async def test_body_over_the_limit_after_the_response_started() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"early ")
        try:
            environ["wsgi.input"].read()
        except asgiref.wsgi.RequestBodyTooLarge as exc:
            errors.append(exc)
        return [b"handled"]

    server = Server([])
    early_sent = anyio.Event()
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": BIG, "more_body": True}
        if calls == 2:
            # Only once the response has started does the body go over the limit.
            await early_sent.wait()
            return {"type": "http.request", "body": b"y" * 600, "more_body": False}
        return await server.receive()

    async def send(message: dict[str, Any]) -> None:
        await server.send(message)
        if message.get("body") == b"early ":
            early_sent.set()

    await WsgiToAsgi(app, max_request_body_size=len(BIG) + 100)(scope(), receive, send)
    assert server.sent[0]["status"] == 200
    assert server.body == b"early handled"
    assert len(errors) == 1

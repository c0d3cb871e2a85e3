"""Behaviour WsgiToAsgi shares with the published asgiref 3.13.0.

This module imports only public asgiref names, so it also runs against the published
package: ``cd /tmp && /opt/pub312/bin/python -m pytest -p anyio <this file>``.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync
from asgiref.testing import ApplicationCommunicator
from asgiref.wsgi import WsgiToAsgi

pytestmark = pytest.mark.anyio

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Message = dict[str, Any]
# Wait bound for what must happen promptly; reaching it means a bug, not slowness.
PATIENCE = 10


def scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "query_string": b"",
        "root_path": "",
        "headers": headers or [],
        "server": ("127.0.0.1", 80),
    }


def hello(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


RESPONSE = [
    {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]},
    {"type": "http.response.body", "body": b"hello", "more_body": True},
    {"type": "http.response.body"},
]


async def serve(app: Any, incoming: list[Message]) -> list[Message]:
    """One request through ``app``: ``incoming`` first, then receive() waits for good."""
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope(), receive, send)
    return sent


# --------------------------------------------------------------------------- start


async def test_nothing_starts_before_the_first_request_message() -> None:
    called = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        called.set()
        return hello(environ, start_response)

    communicator = ApplicationCommunicator(WsgiToAsgi(app), scope())
    try:
        assert await communicator.receive_nothing()
        assert not called.is_set()
        await communicator.send_input({"type": "http.request"})
        assert [await communicator.receive_output(PATIENCE) for _ in RESPONSE] == RESPONSE
        await communicator.wait(PATIENCE)
    finally:
        await communicator.wait(PATIENCE)


# --------------------------------------------------------------------------- as sync_to_async


async def test_the_application_sees_the_callers_locals_and_context_and_they_flow_back() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    local = Local()
    seen: list[object] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        seen.extend([request_id.get("missing"), getattr(local, "user", "missing")])
        request_id.set("set by the application")
        local.user = "changed by the application"
        return hello(environ, start_response)

    request_id.set("from the caller")
    local.user = "alice"
    assert await serve(WsgiToAsgi(app), [{"type": "http.request"}]) == RESPONSE
    assert seen == ["from the caller", "alice"]
    assert request_id.get() == "set by the application"
    assert local.user == "changed by the application"


async def test_async_to_sync_in_the_application_runs_on_the_servers_loop() -> None:
    server_loop = anyio.lowlevel.current_token()
    # Something bound to the server's loop, like a connection pool made at startup.
    sending, receiving = anyio.create_memory_object_stream[str](1)
    loops: list[object] = []

    async def use_the_pool() -> None:
        loops.append(anyio.lowlevel.current_token())
        await sending.send("used from the application")

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        async_to_sync(use_the_pool)()
        return hello(environ, start_response)

    with sending, receiving:
        assert await serve(WsgiToAsgi(app), [{"type": "http.request"}]) == RESPONSE
        assert loops == [server_loop]
        assert receiving.receive_nowait() == "used from the application"


async def test_inside_a_thread_sensitive_context_requests_share_its_thread() -> None:
    threads: list[int] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        threads.append(threading.get_ident())
        return hello(environ, start_response)

    adapter = WsgiToAsgi(app)
    async with ThreadSensitiveContext(), anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(serve, adapter, [{"type": "http.request"}])
    assert len(threads) == 3
    assert len(set(threads)) == 1
    assert threads[0] != threading.get_ident()


# --------------------------------------------------------------------------- disconnects


async def test_disconnect_after_the_body_does_not_swallow_the_response() -> None:
    communicator = ApplicationCommunicator(WsgiToAsgi(hello), scope())
    try:
        await communicator.send_input({"type": "http.request", "body": b"complete"})
        await communicator.send_input({"type": "http.disconnect"})
        assert [await communicator.receive_output(PATIENCE) for _ in RESPONSE] == RESPONSE
    finally:
        await communicator.wait(PATIENCE)


# --------------------------------------------------------------------------- slow clients


async def test_stalled_uploads_do_not_hold_up_other_requests() -> None:
    stalled_count = 300
    announced = b"1000"
    stall = anyio.Event()  # never set: these clients send no more

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read()
        return hello(environ, start_response)

    adapter = WsgiToAsgi(app)
    first_byte_taken = [anyio.Event() for _ in range(stalled_count)]

    def stalled_receive(index: int) -> Callable[[], Awaitable[Message]]:
        calls = 0

        async def receive() -> Message:
            nonlocal calls
            calls += 1
            if calls == 1:
                first_byte_taken[index].set()
                return {"type": "http.request", "body": b"x", "more_body": True}
            await stall.wait()
            raise AssertionError("unreachable")

        return receive

    async def discard(message: Message) -> None:
        raise AssertionError(f"a stalled upload got an answer: {message}")

    post = scope("POST", [(b"content-length", announced)])
    ended: list[int] = []

    async def stalled_upload(index: int) -> None:
        await adapter(post, stalled_receive(index), discard)
        ended.append(index)

    with anyio.fail_after(PATIENCE):
        async with anyio.create_task_group() as group:
            for index in range(stalled_count):
                group.start_soon(stalled_upload, index)
            for event in first_byte_taken:
                await event.wait()
            answer = await serve(adapter, [{"type": "http.request"}])
            assert answer == RESPONSE
            assert ended == []
            group.cancel_scope.cancel()

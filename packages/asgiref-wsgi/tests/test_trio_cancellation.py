"""A trio cancellation reaching WsgiToAsgi while a Flask application is mid-response.

Under trio a cancelled await abandons the thread it waited on (DEVIATIONS.md,
``sync-trio``), so the adapter itself must end the thread's current trip to the
run: the request thread finishes, its response iterable is closed, nothing hangs
and no thread is left behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import trio
import trio.from_thread
from asgiref.wsgi import WsgiToAsgi

# Reaching it means a hang: the bug under test, not slowness.
PATIENCE = 10

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/stream",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"testserver")],
    "server": ("testserver", 80),
}


def streaming_flask_app(
    token: trio.lowlevel.TrioToken, first_chunk_made: trio.Event, closed: threading.Event
) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/stream")
    def stream() -> flask.Response:
        def chunks() -> Iterator[bytes]:
            try:
                yield b"first"
                trio.from_thread.run_sync(first_chunk_made.set, trio_token=token)
                while True:
                    yield b"more"
            finally:
                closed.set()

        return flask.Response(chunks(), mimetype="text/plain")

    return app


async def a_request(adapter: WsgiToAsgi, send_blocks_after: int) -> list[dict[str, Any]]:
    """Serve one GET; the client stops reading after ``send_blocks_after`` messages."""
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if len(sent) >= send_blocks_after:
            await trio.sleep_forever()  # a client that never drains
        sent.append(message)

    await adapter(SCOPE, receive, send)
    return sent


def test_cancelling_the_run_mid_response_ends_the_request_thread() -> None:
    closed = threading.Event()

    async def main() -> int:
        token = trio.lowlevel.current_trio_token()
        first_chunk_made = trio.Event()
        adapter = WsgiToAsgi(streaming_flask_app(token, first_chunk_made, closed))
        # A first request, so pooled threads exist before counting.
        warm_up = WsgiToAsgi(flask.Flask(__name__))
        await a_request(warm_up, send_blocks_after=10)
        threads_before = threading.active_count()
        with trio.fail_after(PATIENCE):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(a_request, adapter, 2)
                await first_chunk_made.wait()  # the response is under way
                nursery.cancel_scope.cancel()
        # The request's task ended only once its thread had (the adapter waits for it).
        assert closed.is_set()
        return threads_before

    threads_before = trio.run(main)
    assert threading.active_count() == threads_before


@pytest.mark.parametrize("blocked_in", ["send", "receive"])
def test_cancelling_a_request_whose_thread_waits_on_the_server(blocked_in: str) -> None:
    # The WSGI thread is inside a trip to the run (sending a chunk, or reading more of
    # the body) when the request is cancelled: that trip must end too.
    thread_done = threading.Event()
    errors: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        try:
            if blocked_in == "receive":
                environ["wsgi.input"].read()
            start_response("200 OK", [])
            while True:
                yield b"x" * 1024
        except OSError as error:  # ClientDisconnected, for a read
            errors.append(error)
            raise
        finally:
            thread_done.set()

    async def main() -> None:
        receive_more = blocked_in == "receive"
        incoming = [{"type": "http.request", "body": b"x" * 70_000, "more_body": receive_more}]
        sending = trio.Event()

        async def receive() -> dict[str, Any]:
            if incoming:
                return incoming.pop(0)
            sending.set()  # the thread waits for more body: that never comes
            await trio.sleep_forever()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message.get("body"):
                sending.set()
                await trio.sleep_forever()

        with trio.fail_after(PATIENCE):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(WsgiToAsgi(app), dict(SCOPE, method="POST"), receive, send)
                await sending.wait()
                nursery.cancel_scope.cancel()
        assert thread_done.is_set()

    trio.run(main)
    if blocked_in == "receive":
        assert len(errors) == 1

"""ApplicationCommunicator in a trio run: what only trio raises.

The backend-neutral tests of this package run on trio too (the conftest
parametrises ``anyio_backend``); these pin down the trio stand-ins.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import trio
import trio.lowlevel
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator

pytestmark = pytest.mark.anyio

SCOPE: dict[str, Any] = {"type": "http"}


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


async def test_the_application_runs_in_the_trio_run_with_trio_primitives() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        await trio.lowlevel.checkpoint()
        doubled = await sync_to_async(lambda: async_to_sync(_double)(message["n"]))()
        await send({"type": "reply", "n": doubled})

    communicator = ApplicationCommunicator(app, SCOPE)
    await communicator.send_input({"type": "ask", "n": 21})
    assert await communicator.receive_output(5) == {"type": "reply", "n": 42}
    await communicator.wait(5)
    assert communicator.future.done()
    assert not communicator.future.cancelled()


async def _double(n: int) -> int:
    trio.lowlevel.current_trio_token()
    return n * 2


async def test_a_timeout_cancels_the_application_with_trio_cancellation() -> None:
    seen: list[str] = []

    async def silent(scope: Any, receive: Any, send: Any) -> None:
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            seen.append("cancelled")
            raise

    communicator = ApplicationCommunicator(silent, SCOPE)
    # asyncio's TimeoutError: the builtin one from 3.11 on, as the communicator raises.
    with pytest.raises(asyncio.TimeoutError):
        await communicator.receive_output(0.05)
    assert seen == ["cancelled"]
    assert communicator.future.cancelled()
    # As on asyncio: a cancelled application reports asyncio.CancelledError.
    with pytest.raises(asyncio.CancelledError):
        communicator.future.result()


async def test_an_application_error_propagates() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise ValueError("boom")

    communicator = ApplicationCommunicator(failing, SCOPE)
    await communicator.send_input({"type": "go"})
    with pytest.raises(ValueError, match="boom"):
        await communicator.receive_output(5)


async def test_the_queues_keep_their_asyncio_types() -> None:
    communicator = ApplicationCommunicator(_echo, SCOPE)
    assert isinstance(communicator.input_queue, asyncio.Queue)
    assert isinstance(communicator.output_queue, asyncio.Queue)
    await communicator.send_input({"type": "one"})
    assert await communicator.receive_output(5) == {"type": "one"}
    assert await communicator.receive_nothing(0.01)
    communicator.stop()
    await communicator.wait(5)


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        await send(await receive())

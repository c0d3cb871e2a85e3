"""The same code under asyncio and under trio: the bridge, Local and the communicator.

One request handler, written once, runs on both backends. Under trio, watch for:
  - the sync part runs off the event loop's thread, in asgiref's process-wide worker;
  - async_to_sync inside it comes back into the trio run (trio's own API works there);
  - Local and context variables follow the hops and come back changed;
  - a cancelled caller gets trio.Cancelled at once while the sync function finishes.
A top-level async_to_sync from a plain thread still starts asyncio, as always.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import trio
from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
state = Local()


def backend() -> str:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return "trio" if trio.lowlevel.in_trio_run() else "none"
    return "asyncio"


async def back_in_the_loop(step: str) -> str:
    return f"{step} on {backend()} in {threading.current_thread().name}, user={state.user}"


def sync_view() -> list[str]:
    lines = [f"sync view in {threading.current_thread().name} (request {request_id.get()})"]
    lines.append(async_to_sync(back_in_the_loop)("async_to_sync"))
    state.user = "alice (set in the sync view)"
    request_id.set(request_id.get() + "+sync")
    return lines


async def handler(label: str) -> None:
    print(f"\n--- {label}: running on {backend()} in {threading.current_thread().name}")
    request_id.set("r1")
    state.user = "anonymous"
    async with ThreadSensitiveContext():
        for line in await sync_to_async(sync_view)():
            print("   ", line)
    print(f"    back: user={state.user}, request_id={request_id.get()}")


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    message = await receive()
    await send({"type": "echo", "text": message["text"], "backend": backend()})


async def communicator_round_trip() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "demo"})
    await communicator.send_input({"type": "say", "text": "hello"})
    print("    communicator:", await communicator.receive_output(5))
    await communicator.wait(5)


async def trio_cancellation() -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)
        print("    the sync function ran to its end in its thread")

    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:

            async def cancel_when_started() -> None:
                await trio.to_thread.run_sync(started.wait, 5)
                scope.cancel()

            nursery.start_soon(cancel_when_started)
            await sync_to_async(slow)()
    print(f"    cancelled at once: {scope.cancelled_caught}")
    release.set()
    await sync_to_async(lambda: None)()  # the same thread: runs once slow() has ended


async def main_asyncio() -> None:
    await handler("asyncio.run")
    await communicator_round_trip()


async def main_trio() -> None:
    await handler("trio.run")
    await communicator_round_trip()
    await trio_cancellation()


asyncio.run(main_asyncio())
trio.run(main_trio)


async def top_level() -> str:
    return backend()


print(f"\n--- a top-level async_to_sync from a plain thread runs on: {async_to_sync(top_level)()}")

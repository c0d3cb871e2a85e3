"""A Channels-style worker on StatelessServer, fed by a real channel of messages.

Channels' ``Worker(StatelessServer)`` calls ``super().__init__(application,
max_applications)`` positionally, listens on channel-layer channels in ``handle()``,
and for every message calls ``get_or_create_application_instance(channel, {"type":
"channel", "channel": channel})`` and awaits ``put()`` on the returned queue.  The
worker and the in-memory channel layer below are written from that description.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.server import StatelessServer

pytestmark = pytest.mark.anyio

STOP = {"type": "worker.stop"}


class InMemoryChannelLayer:
    """Named FIFO channels, the part of a channel layer a worker uses."""

    def __init__(self) -> None:
        self._channels: dict[str, asyncio.Queue[dict[str, Any]]] = {}

    def _channel(self, name: str) -> asyncio.Queue[dict[str, Any]]:
        return self._channels.setdefault(name, asyncio.Queue())

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._channel(channel).put(message)

    async def receive(self, channel: str) -> dict[str, Any]:
        return await self._channel(channel).get()


class Worker(StatelessServer):
    application_checker_interval = 0.01

    def __init__(
        self,
        application: Any,
        channels: list[str],
        channel_layer: InMemoryChannelLayer,
        max_applications: int = 1000,
    ) -> None:
        super().__init__(application, max_applications)
        self.channels = channels
        self.channel_layer = channel_layer
        self.failures: list[BaseException] = []

    async def handle(self) -> None:
        listeners = [asyncio.ensure_future(self.listener(channel)) for channel in self.channels]
        try:
            await asyncio.gather(*listeners)
        finally:
            for details in self.application_instances.values():
                details["future"].cancel()

    async def listener(self, channel: str) -> None:
        while True:
            message = await self.channel_layer.receive(channel)
            if message == STOP:
                return
            scope = {"type": "channel", "channel": channel}
            instance_queue = self.get_or_create_application_instance(channel, scope)
            await instance_queue.put(message)

    async def application_send(self, scope: Any, message: Any) -> None:
        raise ValueError("a worker's applications cannot send messages")

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        self.failures.append(exception)


async def cancel_tasks_started_since(before: set[asyncio.Task[Any]]) -> None:
    """End what arun() leaves behind (its checker), as asyncio.run would."""
    leftover = [task for task in asyncio.all_tasks() - before if not task.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        await asyncio.wait(leftover)


def consumer(results: dict[str, list[int]], finished: dict[str, asyncio.Event]) -> Any:
    async def app(*, scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = scope["channel"]
        while True:
            message = await receive()
            if message["type"] == "job.done":
                finished[channel].set()
                return
            if message["type"] == "job.crash":
                raise RuntimeError(f"consumer on {channel} crashed")
            results.setdefault(channel, []).append(message["n"])

    return app


async def test_worker_dispatches_a_channel_of_messages() -> None:
    layer = InMemoryChannelLayer()
    results: dict[str, list[int]] = {}
    finished = {name: asyncio.Event() for name in ("thumbnails", "emails")}
    worker = Worker(consumer(results, finished), ["thumbnails", "emails"], layer, 10)
    assert worker.max_applications == 10

    async def produce() -> None:
        for n in range(50):
            await layer.send("thumbnails", {"type": "job", "n": n})
            await layer.send("emails", {"type": "job", "n": -n})
        await layer.send("thumbnails", {"type": "job.done"})
        await layer.send("emails", {"type": "job.done"})
        for event in finished.values():
            await event.wait()
        for channel in worker.channels:
            await layer.send(channel, STOP)

    before = asyncio.all_tasks()
    await asyncio.wait_for(asyncio.gather(worker.arun(), produce()), 30)
    # One instance per channel, each seeing its channel's messages in order.
    assert results == {"thumbnails": list(range(50)), "emails": [-n for n in range(50)]}
    assert worker.failures == []
    await cancel_tasks_started_since(before)


async def test_worker_reports_a_crashed_consumer_and_starts_a_new_one() -> None:
    layer = InMemoryChannelLayer()
    results: dict[str, list[int]] = {}
    finished = {"jobs": asyncio.Event()}
    worker = Worker(consumer(results, finished), ["jobs"], layer)
    before = asyncio.all_tasks()
    running = asyncio.ensure_future(worker.arun())

    await layer.send("jobs", {"type": "job", "n": 1})
    await layer.send("jobs", {"type": "job.crash"})
    deadline = asyncio.get_running_loop().time() + 5
    while not worker.failures or worker.application_instances:
        assert asyncio.get_running_loop().time() < deadline, "crash was not reported in time"
        await asyncio.sleep(0.005)
    assert [str(error) for error in worker.failures] == ["consumer on jobs crashed"]

    # The checker removed the crashed instance: the next message gets a fresh one.
    await layer.send("jobs", {"type": "job", "n": 2})
    await layer.send("jobs", {"type": "job.done"})
    await asyncio.wait_for(finished["jobs"].wait(), 5)
    assert results == {"jobs": [1, 2]}

    await layer.send("jobs", STOP)
    await asyncio.wait_for(running, 5)
    await cancel_tasks_started_since(before)

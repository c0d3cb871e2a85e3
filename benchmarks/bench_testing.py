"""asgiref.testing: an ApplicationCommunicator round trip against two plain asyncio.Queues.

One round trip: ``send_input`` a message, let the echo application run once, then
``receive_output`` with the echo already waiting, which is what a test does between
assertions.  The reference does the same with two bare queues and a task.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.testing import ApplicationCommunicator

# Many short batches, keeping the fastest: on a shared machine a batch can only be
# slowed down by other load, never sped up, so the minimum is the steadiest estimate.
BATCHES = 20
ROUNDS_PER_BATCH = 2_000
WARM_UP_ROUNDS = 2_000

MESSAGE = {"type": "bench.ping"}


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        await send(await receive())


async def _per_round(round_trip: Callable[[], Awaitable[None]]) -> float:
    """Seconds per round trip in the fastest of several batches, after a warm-up."""
    for _ in range(WARM_UP_ROUNDS):
        await round_trip()
    timings: list[float] = []
    for _ in range(BATCHES):
        started = time.perf_counter()
        for _ in range(ROUNDS_PER_BATCH):
            await round_trip()
        timings.append((time.perf_counter() - started) / ROUNDS_PER_BATCH)
    return min(timings)


def _communicator_roundtrip(**options: Any) -> float:
    async def main() -> float:
        accepted = inspect.signature(ApplicationCommunicator).parameters
        if any(option not in accepted for option in options):
            raise NotImplementedError("validate= only exists in ours")
        communicator = ApplicationCommunicator(_echo, {"type": "bench"}, **options)

        async def round_trip() -> None:
            await communicator.send_input(MESSAGE)
            await asyncio.sleep(0)  # the application echoes
            reply = await communicator.receive_output()
            assert reply is MESSAGE

        result = await _per_round(round_trip)
        communicator.stop()
        return result

    return asyncio.run(main())


def communicator_roundtrip() -> float:
    return _communicator_roundtrip()


def communicator_roundtrip_validating() -> float:
    return _communicator_roundtrip(validate=True)


def two_queues_roundtrip() -> float:
    async def main() -> float:
        inputs: asyncio.Queue[Any] = asyncio.Queue()
        outputs: asyncio.Queue[Any] = asyncio.Queue()

        async def echo() -> None:
            while True:
                await outputs.put(await inputs.get())

        task = asyncio.ensure_future(echo())

        async def round_trip() -> None:
            await inputs.put(MESSAGE)
            await asyncio.sleep(0)
            reply = await outputs.get()
            assert reply is MESSAGE

        result = await _per_round(round_trip)
        task.cancel()
        return result

    return asyncio.run(main())


WORKLOADS: dict[str, Callable[[], float]] = {
    "communicator_roundtrip": communicator_roundtrip,
    "communicator_roundtrip_validating": communicator_roundtrip_validating,
    "two_queues_roundtrip": two_queues_roundtrip,
}

TARGETS: list[tuple[str, str, float]] = [
    ("communicator_roundtrip", "two_queues_roundtrip", 1.3),
]


if __name__ == "__main__":
    for name, workload in WORKLOADS.items():
        try:
            print(f"{name}: {workload() * 1e6:.2f} µs")
        except NotImplementedError:
            print(f"{name}: not available in this implementation")

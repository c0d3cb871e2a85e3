"""asgiref.testing: an ApplicationCommunicator round trip against two plain asyncio.Queues.

One round trip: ``send_input`` a message, let the echo application run once, then
``receive_output`` with the echo already waiting, which is what a test does between
assertions.  The reference does the same with two bare queues and a task.

On a shared machine the speed of a process drifts by tens of percent over a second
(another process on the sibling core, frequency changes), so every workload times its
own batches interleaved with batches of its counterpart and keeps its fastest batch:
the communicator and the reference are then measured under the same conditions, and
a batch can only be slowed down by other load, never sped up.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.testing import ApplicationCommunicator

BATCHES = 250  # of each kind, alternating
ROUNDS_PER_BATCH = 200  # a few ms: shorter than a scheduler time slice
WARM_UP_ROUNDS = 2_000

MESSAGE = {"type": "bench.ping"}

RoundTrip = Callable[[], Awaitable[None]]


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        await send(await receive())


async def _batch_seconds(round_trip: RoundTrip) -> float:
    started = time.perf_counter()
    for _ in range(ROUNDS_PER_BATCH):
        await round_trip()
    return (time.perf_counter() - started) / ROUNDS_PER_BATCH


async def _fastest(measured: RoundTrip, counterpart: RoundTrip) -> float:
    """Seconds per round trip of ``measured``, batches interleaved with ``counterpart``."""
    for _ in range(WARM_UP_ROUNDS):
        await measured()
        await counterpart()
    best = float("inf")
    for _ in range(BATCHES):
        best = min(best, await _batch_seconds(measured))
        await _batch_seconds(counterpart)
    return best


def _supports(**options: Any) -> bool:
    accepted = inspect.signature(ApplicationCommunicator).parameters
    return all(option in accepted for option in options)


async def _communicator_round_trip(**options: Any) -> tuple[RoundTrip, Callable[[], None]]:
    communicator = ApplicationCommunicator(_echo, {"type": "bench"}, **options)

    async def round_trip() -> None:
        await communicator.send_input(MESSAGE)
        await asyncio.sleep(0)  # the application echoes
        reply = await communicator.receive_output()
        assert reply is MESSAGE

    return round_trip, communicator.stop


async def _two_queues_round_trip() -> tuple[RoundTrip, Callable[[], None]]:
    inputs: asyncio.Queue[Any] = asyncio.Queue()
    outputs: asyncio.Queue[Any] = asyncio.Queue()

    async def echo() -> None:
        while True:
            await outputs.put(await inputs.get())

    task = asyncio.ensure_future(echo())

    async def round_trip() -> None:
        await inputs.put(MESSAGE)
        await asyncio.sleep(0)  # the echo task runs
        reply = await outputs.get()
        assert reply is MESSAGE

    return round_trip, task.cancel


def _measure(communicator_options: dict[str, Any], *, reference_is_measured: bool) -> float:
    async def main() -> float:
        communicator, stop_communicator = await _communicator_round_trip(**communicator_options)
        queues, stop_queues = await _two_queues_round_trip()
        try:
            if reference_is_measured:
                return await _fastest(queues, communicator)
            return await _fastest(communicator, queues)
        finally:
            stop_communicator()
            stop_queues()

    return asyncio.run(main())


def communicator_roundtrip() -> float:
    return _measure({}, reference_is_measured=False)


def communicator_roundtrip_validating() -> float:
    if not _supports(validate=True):
        raise NotImplementedError("validate= only exists in ours")
    return _measure({"validate": True}, reference_is_measured=False)


def two_queues_roundtrip() -> float:
    return _measure({}, reference_is_measured=True)


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

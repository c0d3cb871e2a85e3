"""asgiref.testing: ApplicationCommunicator driven the way tests drive it.

A test calls ``send_input`` and then, with nothing in between, ``receive_output``: the
application has not run yet when ``receive_output`` starts, so what it does while the
reply is not ready (yield, arm a timer, wait) is the cost being measured.  Workloads:

* ``communicator_roundtrip``: that pair against an echo application.
* ``communicator_roundtrip_delayed``: the same, but the echo yields to the loop a few
  times before answering, so the reply is not there after one loop pass.
* ``http_request``: a whole HTTP exchange on a fresh communicator, as a test of an ASGI
  view does it: ``send_input(http.request)``, ``receive_output`` twice (start, body),
  then ``wait()`` for the application to return.
* ``http_request_tester``: the same request through our ``HttpTester`` (ours only).
* ``two_queues_roundtrip``: the reference, two bare asyncio.Queues and an echo task.

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

import asgiref.testing
from asgiref.testing import ApplicationCommunicator

BATCHES = 250  # of each kind, alternating
ROUNDS_PER_BATCH = 200  # a few ms: shorter than a scheduler time slice
WARM_UP_ROUNDS = 2_000
DELAY_STEPS = 3  # loop passes the delayed echo takes before it answers

MESSAGE = {"type": "bench.ping"}
HTTP_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"testserver")],
    "client": ("127.0.0.1", 50000),
    "server": ("testserver", 80),
}
HTTP_REQUEST = {"type": "http.request", "body": b"", "more_body": False}
HTTP_BODY = b"Hello, world!\n"

RoundTrip = Callable[[], Awaitable[None]]


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        await send(await receive())


async def _delayed_echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        for _ in range(DELAY_STEPS):
            await asyncio.sleep(0)
        await send(message)


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    """A minimal HTTP view: read the request, answer 200 with a short body."""
    await receive()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": HTTP_BODY})


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


Setup = Callable[[], Awaitable[tuple[RoundTrip, Callable[[], None]]]]


def _communicator_round_trip(application: Any, **options: Any) -> Setup:
    async def setup() -> tuple[RoundTrip, Callable[[], None]]:
        communicator = ApplicationCommunicator(application, {"type": "bench"}, **options)

        async def round_trip() -> None:
            # No yield in between: exactly what a test does.
            await communicator.send_input(MESSAGE)
            reply = await communicator.receive_output()
            assert reply is MESSAGE

        return round_trip, communicator.stop

    return setup


async def _http_request_setup() -> tuple[RoundTrip, Callable[[], None]]:
    async def round_trip() -> None:
        communicator = ApplicationCommunicator(_hello, HTTP_SCOPE)
        await communicator.send_input(HTTP_REQUEST)
        start = await communicator.receive_output()
        assert start["status"] == 200
        body = await communicator.receive_output()
        assert body["body"] == HTTP_BODY
        await communicator.wait()

    return round_trip, lambda: None


async def _http_tester_setup() -> tuple[RoundTrip, Callable[[], None]]:
    tester_class: Any = getattr(asgiref.testing, "HttpTester", None)
    if tester_class is None:
        raise NotImplementedError("HttpTester only exists in ours")
    tester = tester_class(_hello)

    async def round_trip() -> None:
        response = await tester.request("GET", "/")
        assert response.body == HTTP_BODY

    return round_trip, lambda: None


async def _two_queues_round_trip() -> tuple[RoundTrip, Callable[[], None]]:
    inputs: asyncio.Queue[Any] = asyncio.Queue()
    outputs: asyncio.Queue[Any] = asyncio.Queue()

    async def echo() -> None:
        while True:
            await outputs.put(await inputs.get())

    task = asyncio.ensure_future(echo())

    async def round_trip() -> None:
        await inputs.put(MESSAGE)
        reply = await outputs.get()
        assert reply is MESSAGE

    return round_trip, task.cancel


def _measure(setup: Setup, *, reference_is_measured: bool = False) -> float:
    async def main() -> float:
        measured, stop_measured = await setup()
        queues, stop_queues = await _two_queues_round_trip()
        try:
            if reference_is_measured:
                return await _fastest(queues, measured)
            return await _fastest(measured, queues)
        finally:
            stop_measured()
            stop_queues()

    return asyncio.run(main())


def communicator_roundtrip() -> float:
    return _measure(_communicator_round_trip(_echo))


def communicator_roundtrip_delayed() -> float:
    return _measure(_communicator_round_trip(_delayed_echo))


def communicator_roundtrip_validating() -> float:
    if not _supports(validate=True):
        raise NotImplementedError("validate= only exists in ours")
    return _measure(_communicator_round_trip(_echo, validate=True))


def http_request() -> float:
    return _measure(_http_request_setup)


def http_request_tester() -> float:
    return _measure(_http_tester_setup)


def two_queues_roundtrip() -> float:
    return _measure(_communicator_round_trip(_echo), reference_is_measured=True)


WORKLOADS: dict[str, Callable[[], float]] = {
    "communicator_roundtrip": communicator_roundtrip,
    "communicator_roundtrip_delayed": communicator_roundtrip_delayed,
    "communicator_roundtrip_validating": communicator_roundtrip_validating,
    "http_request": http_request,
    "http_request_tester": http_request_tester,
    "two_queues_roundtrip": two_queues_roundtrip,
}

TARGETS: list[tuple[str, str, float]] = [
    ("communicator_roundtrip", "two_queues_roundtrip", 1.3),
]

# What tests do must be no slower than the published asgiref.
VS_PUBLISHED: list[tuple[str, float]] = [
    ("communicator_roundtrip", 1.0),
    ("communicator_roundtrip_delayed", 1.0),
    ("http_request", 1.0),
]


if __name__ == "__main__":
    for name, workload in WORKLOADS.items():
        try:
            print(f"{name}: {workload() * 1e6:.2f} µs")
        except NotImplementedError:
            print(f"{name}: not available in this implementation")

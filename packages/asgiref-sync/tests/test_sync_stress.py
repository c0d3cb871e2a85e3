"""Bounded, deterministic stress: many mixed calls, deep chains, seeded random cancellation.

Afterwards threads, open event loops and file descriptors are back where they started.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sys
import threading
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.sync._workers import retire_idle_workers

CONCURRENT = 10_000
TOTAL_CALLS = 100_000


def _open_loops() -> int:
    return sum(
        1
        for obj in gc.get_objects()
        if isinstance(obj, asyncio.AbstractEventLoop) and not obj.is_closed()
    )


def _resources() -> tuple[int, int, int]:
    gc.collect()
    fds = len(os.listdir("/proc/self/fd")) if sys.platform.startswith("linux") else 0
    # trio's idle worker threads (left by this package's trio runs of other tests) retire
    # on trio's own 10 s clock, so they are not counted.
    threads = sum(1 for t in threading.enumerate() if not t.name.startswith("Trio thread"))
    return threads, _open_loops(), fds


def double(x: int) -> int:
    return x * 2


async def adouble(x: int) -> int:
    return x * 2


def bridge_back(x: int) -> int:
    return async_to_sync(adouble)(x)


async def mixed_call(i: int) -> int:
    kind = i % 3
    if kind == 0:
        return await sync_to_async(double)(i)
    if kind == 1:
        return await sync_to_async(double, thread_sensitive=False)(i)
    return await sync_to_async(bridge_back, thread_sensitive=False)(i)


async def request(first: int, calls: int) -> list[int]:
    """A Django-shaped request: one context, several thread-sensitive calls at once."""
    async with ThreadSensitiveContext():
        return list(await asyncio.gather(*(mixed_call(i) for i in range(first, first + calls))))


async def chain(depth: int, x: int) -> int:
    """async -> sync -> async -> sync ... ``depth`` hops deep."""
    if depth == 0:
        return x

    def step() -> int:
        return async_to_sync(chain)(depth - 1, x + 1)

    return await sync_to_async(step)()


async def cancellable(i: int, rng: random.Random) -> Any:
    started = threading.Event()

    def work() -> int:
        started.set()
        return i

    task = asyncio.create_task(sync_to_async(work, thread_sensitive=bool(i % 2))())
    for _ in range(rng.randrange(4)):
        await asyncio.sleep(0)
    if rng.random() < 0.5:
        task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        return "cancelled"


@pytest.mark.timeout(60)
def test_stress_returns_to_baseline() -> None:
    async def warm_up() -> None:
        await sync_to_async(double)(1)

    asyncio.run(warm_up())
    retire_idle_workers()
    before = _resources()
    calls = 0

    async def concurrent_mixed() -> None:
        # Half inside 50 concurrent thread-sensitive contexts, half outside any.
        half = CONCURRENT // 2
        outside = asyncio.gather(*(mixed_call(i) for i in range(half)))
        inside = asyncio.gather(*(request(half + n * 100, 100) for n in range(half // 100)))
        results, grouped = await asyncio.gather(outside, inside)
        flat = [value for group in grouped for value in group]
        assert results + flat == [i * 2 for i in range(CONCURRENT)]

    asyncio.run(concurrent_mixed())
    calls += CONCURRENT

    # Five-deep chains, from several sync threads at once.
    errors: list[BaseException] = []

    def chains() -> None:
        try:
            for n in range(20):
                assert async_to_sync(chain)(5, n) == n + 5
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=chains) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    calls += 4 * 20 * 10

    async def random_cancellation() -> None:
        rng = random.Random(1234)
        outcomes = await asyncio.gather(*(cancellable(i, rng) for i in range(2_000)))
        assert all(o in ("cancelled", i) for i, o in enumerate(outcomes))
        assert "cancelled" in outcomes

    asyncio.run(random_cancellation())
    calls += 2_000

    async def bulk(n: int) -> None:
        ts, nonts = sync_to_async(double), sync_to_async(double, thread_sensitive=False)
        await asyncio.gather(*((ts if i % 2 else nonts)(i) for i in range(n)))

    while calls < TOTAL_CALLS:
        batch = min(10_000, TOTAL_CALLS - calls)
        asyncio.run(bulk(batch))
        calls += batch

    retire_idle_workers()
    assert _resources() == before

"""asgiref.sync: bridge call costs, against the published asgiref and bare run_in_executor.

Every workload uses public asgiref API only, so the same module measures both
implementations. Each returns seconds per operation (per call or per request).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

TARGET_SECONDS = 0.4


def _timed(run: Callable[[int], None], ops_per_run: int) -> float:
    """Warm up, then repeat ``run(n)`` until about TARGET_SECONDS pass; seconds per op."""
    run(1)
    n = 1
    while True:
        start = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - start
        if elapsed >= TARGET_SECONDS / 4 or n >= 1 << 20:
            break
        n *= 4
    best = elapsed / (n * ops_per_run)
    for _ in range(2):
        start = time.perf_counter()
        run(n)
        best = min(best, (time.perf_counter() - start) / (n * ops_per_run))
    return best


def _in_loop(make: Callable[[int], Awaitable[None]], ops_per_run: int) -> float:
    """Time ``await make(n)`` inside one event loop (loop start-up is not measured)."""

    async def measure() -> float:
        await make(1)
        n = 1
        while True:
            start = time.perf_counter()
            await make(n)
            elapsed = time.perf_counter() - start
            if elapsed >= TARGET_SECONDS / 4 or n >= 1 << 20:
                break
            n *= 4
        best = elapsed / (n * ops_per_run)
        for _ in range(2):
            start = time.perf_counter()
            await make(n)
            best = min(best, (time.perf_counter() - start) / (n * ops_per_run))
        return best

    return asyncio.run(measure())


def _noop() -> None:
    return None


async def _trivial() -> None:
    return None


# --- async_to_sync from a thread with no running loop ----------------------------------


def async_to_sync_no_loop() -> float:
    call = async_to_sync(_trivial)

    def run(n: int) -> None:
        for _ in range(n):
            call()

    result: list[float] = []
    # A fresh sync thread, like a WSGI worker or a management command.
    worker = threading.Thread(target=lambda: result.append(_timed(run, 1)))
    worker.start()
    worker.join()
    return result[0]


def run_coroutine_threadsafe_running_loop() -> float:
    """Reference: hand a coroutine to a loop already running in another thread, and wait.

    The standard library's own cross-thread hand-off, with none of the bridge's
    semantics: the floor for any async_to_sync that does not start a thread per call.
    """
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, name="bench-running-loop")
    runner.start()

    def run(n: int) -> None:
        for _ in range(n):
            asyncio.run_coroutine_threadsafe(_trivial(), loop).result()

    try:
        return _timed(run, 1)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join()
        loop.close()


# --- Django-shaped request ----------------------------------------------------------


def _view() -> None:
    async_to_sync(_trivial)()


async def _request() -> None:
    async with ThreadSensitiveContext():
        await sync_to_async(_view)()


def django_request_seq() -> float:
    async def make(n: int) -> None:
        for _ in range(n):
            await _request()

    return _in_loop(make, 1)


def django_request_c64() -> float:
    async def make(n: int) -> None:
        for _ in range(n):
            await asyncio.gather(*(_request() for _ in range(64)))

    return _in_loop(make, 64)


# --- sync_to_async per-call overhead and its baselines ------------------------------


def _seq(call: Callable[[], Awaitable[object]]) -> Callable[[int], Awaitable[None]]:
    async def make(n: int) -> None:
        for _ in range(n):
            await call()

    return make


def _gather1000(call: Callable[[], Awaitable[object]]) -> Callable[[int], Awaitable[None]]:
    async def make(n: int) -> None:
        for _ in range(n):
            await asyncio.gather(*(call() for _ in range(1000)))

    return make


_single_thread = ThreadPoolExecutor(max_workers=1)


def _run_in_single_thread() -> Awaitable[None]:
    return asyncio.get_running_loop().run_in_executor(_single_thread, _noop)


def _run_in_default() -> Awaitable[None]:
    return asyncio.get_running_loop().run_in_executor(None, _noop)


# Each sync_to_async workload is timed against its run_in_executor baseline in one loop,
# alternating batches: on a shared machine, load drifts over seconds, and timing the two
# at different moments would put that drift into the ratio. Each side still reports its
# own best batch.
_PAIR_ROUNDS = 8
_Make = Callable[[int], Awaitable[None]]
_PAIRS: dict[str, Callable[[], tuple[_Make, _Make, int]]] = {
    "ts_seq": lambda: (_seq(sync_to_async(_noop)), _seq(_run_in_single_thread), 1),
    "ts_gather1000": lambda: (
        _gather1000(sync_to_async(_noop)),
        _gather1000(_run_in_single_thread),
        1000,
    ),
    "nonts_seq": lambda: (
        _seq(sync_to_async(_noop, thread_sensitive=False)),
        _seq(_run_in_default),
        1,
    ),
    "nonts_gather1000": lambda: (
        _gather1000(sync_to_async(_noop, thread_sensitive=False)),
        _gather1000(_run_in_default),
        1000,
    ),
}
_pair_results: dict[str, tuple[float, float]] = {}


def _paired(key: str) -> tuple[float, float]:
    """(sync_to_async, baseline) seconds per call for one pair, measured once per process."""
    if key not in _pair_results:
        _pair_results[key] = asyncio.run(_measure_pair(*_PAIRS[key]()))
    return _pair_results[key]


async def _measure_pair(ours: _Make, baseline: _Make, ops_per_run: int) -> tuple[float, float]:
    await ours(1)
    await baseline(1)
    n = 1
    while True:
        start = time.perf_counter()
        await ours(n)
        if time.perf_counter() - start >= TARGET_SECONDS / 8 or n >= 1 << 20:
            break
        n *= 4
    best = [float("inf"), float("inf")]
    for round_number in range(_PAIR_ROUNDS):
        order = (0, 1) if round_number % 2 == 0 else (1, 0)
        for side in order:
            make = ours if side == 0 else baseline
            start = time.perf_counter()
            await make(n)
            best[side] = min(best[side], (time.perf_counter() - start) / (n * ops_per_run))
    return best[0], best[1]


def sync_to_async_ts_seq() -> float:
    return _paired("ts_seq")[0]


def sync_to_async_nonts_seq() -> float:
    return _paired("nonts_seq")[0]


def sync_to_async_ts_gather1000() -> float:
    return _paired("ts_gather1000")[0]


def sync_to_async_nonts_gather1000() -> float:
    return _paired("nonts_gather1000")[0]


def run_in_executor_single_thread_seq() -> float:
    return _paired("ts_seq")[1]


def run_in_executor_single_thread_gather1000() -> float:
    return _paired("ts_gather1000")[1]


def run_in_executor_default_seq() -> float:
    return _paired("nonts_seq")[1]


def run_in_executor_default_gather1000() -> float:
    return _paired("nonts_gather1000")[1]


# --- instrumentation (asgiref.sync.observe; ours only) -------------------------------
#
# With no observer registered the bridge pays one check per call: the rows above, set
# against the same rows of an earlier build, show it. Here one observer that does nothing
# is registered around alternate batches of the same loop, so the difference between the
# two is the per-hop cost of being observed (four events and the Hop record).


def _observer_pair() -> tuple[_Make, _Make, int]:
    try:
        from asgiref.sync.observe import BridgeObserver, add_observer, remove_observer
    except ImportError:
        raise NotImplementedError from None  # the published asgiref has no observers

    class NoOp(BridgeObserver):
        pass

    observer = NoOp()
    plain = _seq(sync_to_async(_noop))

    async def observed(n: int) -> None:
        add_observer(observer)
        try:
            await plain(n)
        finally:
            remove_observer(observer)

    return observed, plain, 1


_PAIRS["ts_seq_observed"] = _observer_pair


def sync_to_async_ts_seq_noop_observer() -> float:
    return _paired("ts_seq_observed")[0]


def sync_to_async_ts_seq_unobserved() -> float:
    return _paired("ts_seq_observed")[1]


def observer_cost_per_hop() -> float:
    observed, unobserved = _paired("ts_seq_observed")
    return max(observed - unobserved, 1e-9)


WORKLOADS: dict[str, Callable[[], float]] = {
    "async_to_sync_no_loop": async_to_sync_no_loop,
    "run_coroutine_threadsafe_running_loop": run_coroutine_threadsafe_running_loop,
    "django_request_seq": django_request_seq,
    "django_request_c64": django_request_c64,
    "sync_to_async_ts_seq": sync_to_async_ts_seq,
    "sync_to_async_nonts_seq": sync_to_async_nonts_seq,
    "sync_to_async_ts_gather1000": sync_to_async_ts_gather1000,
    "sync_to_async_nonts_gather1000": sync_to_async_nonts_gather1000,
    "run_in_executor_single_thread_seq": run_in_executor_single_thread_seq,
    "run_in_executor_single_thread_gather1000": run_in_executor_single_thread_gather1000,
    "run_in_executor_default_seq": run_in_executor_default_seq,
    "run_in_executor_default_gather1000": run_in_executor_default_gather1000,
    "sync_to_async_ts_seq_noop_observer": sync_to_async_ts_seq_noop_observer,
    "sync_to_async_ts_seq_unobserved": sync_to_async_ts_seq_unobserved,
    "observer_cost_per_hop": observer_cost_per_hop,
}

TARGETS: list[tuple[str, str, float]] = [
    ("sync_to_async_ts_seq", "run_in_executor_single_thread_seq", 1.15),
    ("sync_to_async_ts_gather1000", "run_in_executor_single_thread_gather1000", 1.15),
    ("sync_to_async_nonts_seq", "run_in_executor_default_seq", 1.15),
    ("sync_to_async_nonts_gather1000", "run_in_executor_default_gather1000", 1.15),
    # One no-op observer: a small share of a hop, never a multiple of it.
    ("sync_to_async_ts_seq_noop_observer", "sync_to_async_ts_seq_unobserved", 1.3),
]

VS_PUBLISHED: list[tuple[str, float]] = [
    ("async_to_sync_no_loop", 0.2),
    ("django_request_c64", 0.25),
    ("django_request_seq", 0.5),
]


if __name__ == "__main__":
    for name, workload in WORKLOADS.items():
        print(f"{name:45s} {workload() * 1e6:10.2f} us")

"""Pooled loop threads and TSC lanes: no thread per call, no shared loops, retirement, fork."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

import anyio
import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async


@pytest.fixture
def count_thread_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    original = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(self.name)
        original(self)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    return started


async def trivial() -> int:
    return 1


@pytest.mark.ours_only("sync-pooled-loop-threads")
def test_async_to_sync_starts_no_thread_per_call(count_thread_starts: list[str]) -> None:
    async_to_sync(trivial)()  # may start the first loop thread
    count_thread_starts.clear()
    for _ in range(200):
        assert async_to_sync(trivial)() == 1
    assert count_thread_starts == []


@pytest.mark.ours_only("sync-pooled-loop-threads")
def test_thread_sensitive_call_inside_runs_on_calling_thread(
    count_thread_starts: list[str],
) -> None:
    async def inner() -> threading.Thread:
        return await sync_to_async(threading.current_thread)()

    async_to_sync(inner)()
    count_thread_starts.clear()
    for _ in range(50):
        assert async_to_sync(inner)() is threading.current_thread()
    assert count_thread_starts == []


def test_concurrent_callers_never_share_a_loop() -> None:
    # Each coroutine blocks its loop at the barrier: a shared loop could never
    # get both callers there, and the barrier would break after its timeout.
    barrier = threading.Barrier(3, timeout=10)
    loops: list[asyncio.AbstractEventLoop] = []
    errors: list[BaseException] = []

    async def blocking() -> None:
        loops.append(asyncio.get_running_loop())
        barrier.wait()

    def caller() -> None:
        try:
            async_to_sync(blocking)()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({id(loop) for loop in loops}) == 3


@pytest.mark.anyio
async def test_lanes_reused_and_one_live_context_owns_one_thread(
    count_thread_starts: list[str],
) -> None:
    async def request(threads: list[threading.Thread], all_entered: anyio.Event) -> None:
        async with ThreadSensitiveContext():
            first = await sync_to_async(threading.current_thread)()
            threads.append(first)
            if len(threads) == 8:
                all_entered.set()
            # Every context stays live until all eight have their thread.
            await all_entered.wait()
            second = await sync_to_async(threading.current_thread)()
            assert first is second

    async def eight_requests() -> list[threading.Thread]:
        threads: list[threading.Thread] = []
        all_entered = anyio.Event()
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(request, threads, all_entered)
        return threads

    await eight_requests()
    count_thread_starts.clear()
    for _ in range(5):
        threads = await eight_requests()
        assert len(set(threads)) == len(threads)
    lanes_started = [name for name in count_thread_starts if "tsc-lane" in name]
    assert lanes_started == []


def _live(prefix: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(prefix)]


@pytest.mark.ours_only("sync-idle-threads-retire")
def test_idle_workers_retire() -> None:
    # Imported here, not at the top: the rest of the module also runs on asgiref 3.13.0.
    from asgiref.sync._workers import retire_idle_workers

    async def with_tsc() -> None:
        async with ThreadSensitiveContext():
            await sync_to_async(lambda: None)()

    def call_both() -> None:
        async_to_sync(trivial)()
        asyncio.run(with_tsc())

    worker = threading.Thread(target=call_both)
    worker.start()
    worker.join()
    assert _live("asgiref-loop-")
    assert _live("asgiref-tsc-lane-")
    assert retire_idle_workers() >= 2
    assert _live("asgiref-loop-") == []
    assert _live("asgiref-tsc-lane-") == []
    # Still usable afterwards.
    assert async_to_sync(trivial)() == 1


@pytest.mark.ours_only("sync-idle-threads-retire")
def test_idle_timeout_retires_without_help() -> None:
    from asgiref.sync._workers import retire_idle_workers, set_idle_timeout

    retire_idle_workers()
    previous = set_idle_timeout(0.01)
    try:
        async_to_sync(trivial)()
        (runner,) = _live("asgiref-loop-")
        runner.join(timeout=10)
        assert not runner.is_alive()
    finally:
        set_idle_timeout(previous)


@pytest.mark.ours_only("sync-pooled-loop-threads")
def test_worker_threads_are_named() -> None:
    names: dict[str, str] = {}

    async def inner() -> None:
        names["loop"] = threading.current_thread().name

        def nonts() -> None:
            names["loop executor"] = threading.current_thread().name

        await sync_to_async(nonts, thread_sensitive=False)()

    async def plain() -> None:
        names["process-wide"] = (await sync_to_async(threading.current_thread)()).name
        async with ThreadSensitiveContext():
            names["lane"] = (await sync_to_async(threading.current_thread)()).name

    async_to_sync(inner)()
    asyncio.run(plain())
    assert names["loop"].startswith("asgiref-loop-")
    # The call's loop has asyncio's own default executor, created and shut down
    # with the call as under asyncio.run.
    assert names["loop executor"].startswith("asyncio_")
    assert names["process-wide"].startswith("asgiref-sync-worker")
    assert names["lane"].startswith("asgiref-tsc-lane-")


def test_nothing_started_at_import() -> None:
    script = textwrap.dedent(
        """
        import threading
        before = threading.active_count()
        import asgiref.sync, asgiref.current_thread_executor, asgiref.local
        assert threading.active_count() == before, threading.enumerate()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


FORK_SCRIPT = """
import asyncio, os, signal, sys, threading
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

async def coro():
    return await sync_to_async(threading.current_thread)()

async def ts_calls():
    a = await sync_to_async(threading.current_thread)()
    async with ThreadSensitiveContext():
        b = await sync_to_async(threading.current_thread)()
    return a, b

def use_both():
    assert async_to_sync(coro)() is threading.current_thread()
    a, b = asyncio.run(ts_calls())
    assert a is not threading.current_thread() and b is not threading.current_thread()

use_both()
# Saved and restored the way test suites do: still ours, so replaced in the child.
from asgiref.sync import SyncToAsync
SyncToAsync.single_thread_executor = SyncToAsync.single_thread_executor
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hang fails instead of stalling the test
    try:
        use_both()
    except BaseException as exc:
        print("child failed:", repr(exc), flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.ours_only("sync-fork")
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_forked_child_can_use_both_bridges() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", FORK_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

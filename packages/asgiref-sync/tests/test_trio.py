"""The bridge, its contexts and Local in a trio run (trio.run, and anyio's trio backend).

The backend-neutral tests of this package run on trio too (the conftest
parametrises ``anyio_backend``); these are the points only trio raises: where
async_to_sync comes back to, trio cancellation, per-task isolation between trio
tasks, and that asyncio users never import trio.
"""

from __future__ import annotations

import contextvars
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, cast

import pytest
import trio
import trio.lowlevel
from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

pytestmark = pytest.mark.anyio

variable: contextvars.ContextVar[str] = contextvars.ContextVar("test_trio_variable")


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


def _thread() -> threading.Thread:
    return threading.current_thread()


# --------------------------------------------------------------- which thread runs what


async def test_thread_sensitive_calls_share_one_worker_thread() -> None:
    first = await sync_to_async(_thread)()
    second = await sync_to_async(_thread)()
    assert first is second
    assert first is not threading.current_thread()


async def test_non_thread_sensitive_calls_run_off_the_trio_thread() -> None:
    worker = await sync_to_async(_thread, thread_sensitive=False)()
    assert worker is not threading.current_thread()


async def test_an_executor_is_used_for_non_thread_sensitive_calls() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="trio-test-pool") as pool:
        worker = await sync_to_async(_thread, thread_sensitive=False, executor=pool)()
    assert worker.name.startswith("trio-test-pool")


async def test_the_thread_waiting_in_async_to_sync_runs_the_inner_calls() -> None:
    def outer() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        async def inner() -> tuple[threading.Thread, threading.Thread]:
            sensitive = await sync_to_async(_thread)()
            return sensitive, await sync_to_async(_thread, thread_sensitive=False)()

        sensitive, pooled = async_to_sync(inner)()
        return threading.current_thread(), sensitive, pooled

    waiting, sensitive, pooled = await sync_to_async(outer)()
    assert sensitive is waiting
    assert pooled is not waiting


async def test_one_lane_per_context_and_lanes_are_reused() -> None:
    started = [threading.Event(), threading.Event()]
    seen: list[threading.Thread] = []

    def hold(index: int) -> threading.Thread:
        started[index].set()
        # Both contexts are live at once: each must have its own lane.
        assert started[1 - index].wait(10)
        return threading.current_thread()

    async def request(index: int) -> None:
        async with ThreadSensitiveContext():
            seen.append(await sync_to_async(hold)(index))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(request, 0)
        nursery.start_soon(request, 1)
    assert seen[0] is not seen[1]
    async with ThreadSensitiveContext():
        again = await sync_to_async(_thread)()
    assert again in seen
    assert again.name.startswith("asgiref-tsc-lane-")


async def test_context_variables_are_copied_in_and_back() -> None:
    variable.set("caller")

    def change() -> str:
        seen = variable.get()
        variable.set("worker")
        return seen

    assert await sync_to_async(change)() == "caller"
    assert variable.get() == "worker"


async def test_exceptions_come_back_unchanged() -> None:
    error = ValueError("from the worker")

    def fail() -> None:
        raise error

    with pytest.raises(ValueError, match="from the worker") as caught:
        await sync_to_async(fail)()
    assert caught.value is error


# --------------------------------------------------------------- back into the trio run


async def test_async_to_sync_comes_back_into_the_trio_run() -> None:
    token = trio.lowlevel.current_trio_token()
    trio_thread = threading.current_thread()
    event = trio.Event()

    async def in_the_run() -> tuple[object, threading.Thread]:
        event.set()  # a trio primitive of the awaiting run
        await trio.lowlevel.checkpoint()
        return trio.lowlevel.current_trio_token(), threading.current_thread()

    def sync() -> tuple[object, threading.Thread]:
        return async_to_sync(in_the_run)()

    seen_token, seen_thread = await sync_to_async(sync)()
    assert seen_token is token
    assert seen_thread is trio_thread
    assert event.is_set()


async def test_nested_arbitrarily_deep_in_both_directions() -> None:
    trio_thread = threading.current_thread()
    path: list[str] = []

    def down(depth: int) -> int:
        path.append("sync")
        assert threading.current_thread() is not trio_thread
        return async_to_sync(up)(depth)

    async def up(depth: int) -> int:
        path.append("async")
        assert threading.current_thread() is trio_thread
        trio.lowlevel.current_trio_token()
        if depth == 0:
            return 0
        return 1 + await sync_to_async(down)(depth - 1)

    assert await sync_to_async(down)(5) == 5
    assert path == ["sync", "async"] * 6


async def test_context_travels_through_async_to_sync_and_back() -> None:
    variable.set("outer")

    async def inner() -> str:
        seen = variable.get()
        variable.set("inner")
        return seen

    def sync() -> tuple[str, str]:
        seen = async_to_sync(inner)()
        return seen, variable.get()

    assert await sync_to_async(sync)() == ("outer", "inner")
    assert variable.get() == "inner"


async def test_async_to_sync_in_the_trio_thread_is_refused() -> None:
    async def nothing() -> None:
        pass

    with pytest.raises(RuntimeError, match="You cannot use AsyncToSync in the same thread"):
        async_to_sync(nothing)()


def test_top_level_async_to_sync_still_starts_asyncio() -> None:
    import asyncio

    async def which() -> bool:
        asyncio.get_running_loop()  # raises unless asyncio runs this
        return not trio.lowlevel.in_trio_run()

    # Even with trio imported, a plain thread gets an asyncio loop, as before.
    assert async_to_sync(which)()


def test_under_plain_trio_run() -> None:
    def sync() -> str:
        async def back() -> str:
            await trio.lowlevel.checkpoint()
            return "back"

        return async_to_sync(back)()

    async def main() -> str:
        return await sync_to_async(sync)()

    assert trio.run(main) == "back"


# --------------------------------------------------------------- Local


async def test_default_local_follows_hops_and_is_isolated_between_tasks() -> None:
    local = Local()
    results: dict[int, tuple[int, int]] = {}
    all_set = trio.Event()
    arrived = 0

    def bump() -> int:
        value: int = local.value
        local.value = value * 10
        return value

    async def task(index: int) -> None:
        nonlocal arrived
        local.value = index
        arrived += 1
        if arrived == 8:
            all_set.set()
        await all_set.wait()  # every task has written before any reads
        seen_in_worker = await sync_to_async(bump)()
        results[index] = (seen_in_worker, local.value)

    async with trio.open_nursery() as nursery:
        for index in range(8):
            nursery.start_soon(task, index)
    assert results == {index: (index, index * 10) for index in range(8)}


async def test_thread_critical_local_is_per_task_and_stays_in_its_thread() -> None:
    local = Local(thread_critical=True)
    results: dict[int, int] = {}
    all_set = trio.Event()
    arrived = 0

    async def task(index: int) -> None:
        nonlocal arrived
        local.value = index
        arrived += 1
        if arrived == 4:
            all_set.set()
        await all_set.wait()
        # Nothing of it is visible in the worker thread.
        assert not await sync_to_async(hasattr)(local, "value")
        results[index] = local.value

    async with trio.open_nursery() as nursery:
        for index in range(4):
            nursery.start_soon(task, index)
    assert results == {index: index for index in range(4)}
    assert not hasattr(local, "value")  # the test's own task set nothing


async def test_thread_critical_local_seen_again_in_async_to_sync() -> None:
    local = Local(thread_critical=True)
    local.value = "trio thread"

    async def read() -> str:
        return str(local.value)

    def sync() -> str:
        local.value = "worker thread"
        inner = async_to_sync(read)()
        assert local.value == "worker thread"
        return inner

    assert await sync_to_async(sync)() == "trio thread"
    assert local.value == "trio thread"


# --------------------------------------------------------------- cancellation


async def test_cancellation_raises_promptly_and_the_function_finishes() -> None:
    entered = threading.Event()
    release = threading.Event()
    finished = threading.Event()

    def blocking() -> None:
        entered.set()
        assert release.wait(10)
        finished.set()

    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:

            async def cancel_once_entered() -> None:
                await trio.to_thread.run_sync(entered.wait, 10)
                scope.cancel()

            nursery.start_soon(cancel_once_entered)
            await sync_to_async(blocking)()
    assert scope.cancelled_caught
    assert not finished.is_set()  # the call was given up while it still ran
    release.set()
    assert await trio.to_thread.run_sync(finished.wait, 10)
    # The process-wide thread is free again, and the deadlock guard was reset.
    assert await sync_to_async(_thread)() is not threading.current_thread()


async def test_cancellation_drops_a_call_not_yet_started() -> None:
    entered = threading.Event()
    release = threading.Event()
    ran: list[str] = []

    def blocking() -> None:
        entered.set()
        assert release.wait(10)

    def queued() -> None:
        ran.append("queued")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sync_to_async(blocking))
        await trio.to_thread.run_sync(entered.wait, 10)
        with trio.CancelScope() as scope:
            scope.cancel()
            await sync_to_async(queued)()  # behind blocking on the one thread
        release.set()
    assert scope.cancelled_caught
    await sync_to_async(_thread)()  # the thread has run everything queued before this
    assert ran == []


async def test_cancelled_inside_a_thread_sensitive_context() -> None:
    entered = threading.Event()
    release = threading.Event()
    finished = threading.Event()

    def blocking() -> None:
        entered.set()
        assert release.wait(10)
        finished.set()

    with trio.CancelScope() as scope:
        async with ThreadSensitiveContext(), trio.open_nursery() as nursery:

            async def cancel_once_entered() -> None:
                await trio.to_thread.run_sync(entered.wait, 10)
                scope.cancel()
                release.set()

            nursery.start_soon(cancel_once_entered)
            await sync_to_async(blocking)()
        # The context's exit waited, shielded, for the lane's queued work.
    assert scope.cancelled_caught
    assert finished.is_set()


# --------------------------------------------------------------- what asyncio users pay


def _run_python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_importing_the_bridge_imports_neither_trio_nor_anyio() -> None:
    code = (
        "import sys, asyncio\n"
        "import asgiref.sync, asgiref.local\n"
        "from asgiref.sync import sync_to_async, async_to_sync, Local\n"
        "async def main():\n"
        "    await sync_to_async(lambda: None)()\n"
        "asyncio.run(main())\n"
        "async_to_sync(main)()\n"
        "Local(thread_critical=True).x = 1\n"
        "print(sorted(m for m in ('trio', 'anyio', 'sniffio') if m in sys.modules))\n"
    )
    result = _run_python(code, "-X", "importtime")
    assert result.stdout.strip() == "[]"
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert not [name for name in imported if name.split(".")[0] in ("trio", "anyio", "sniffio")]


_TRIO_TASKS_KEEP_THEIR_OWN_VALUES = (
    "import trio\n"
    "async def writer(name, ready, done):\n"
    "    local.value = name\n"
    "    ready.set()\n"
    "    await done.wait()\n"
    "    seen.append((name, local.value))\n"
    "async def main():\n"
    "    done = trio.Event()\n"
    "    async with trio.open_nursery() as nursery:\n"
    "        for name in ('a', 'b'):\n"
    "            ready = trio.Event()\n"
    "            nursery.start_soon(writer, name, ready, done)\n"
    "            with trio.fail_after(10):\n"
    "                await ready.wait()\n"
    "        done.set()\n"
    "seen = []\n"
    "local.value = 'thread'\n"
    "trio.run(main)\n"
    "print(sorted(seen), local.value)\n"
)


@pytest.mark.parametrize("trio_first", [False, True], ids=["trio-imported-later", "trio-first"])
def test_thread_critical_local_isolates_trio_tasks_whenever_trio_is_imported(
    trio_first: bool,
) -> None:
    # Until trio is imported, thread-critical reads ask asyncio only; importing
    # trio (before or after asgiref.local, and with Locals already made) must
    # switch them to the check that sees a trio run.
    code = (
        ("import trio\n" if trio_first else "") + "from asgiref.local import Local\n"
        "local = Local(thread_critical=True)\n"
        "local.value = 'before'\n" + _TRIO_TASKS_KEEP_THEIR_OWN_VALUES
    )
    result = _run_python(code)
    assert result.stdout.split() == ["[('a',", "'a'),", "('b',", "'b')]", "thread"]


def _call_in_run(function: Callable[[], Any]) -> Any:
    async def main() -> Any:
        return await sync_to_async(function)()

    return trio.run(main)


def test_outside_any_event_loop_the_error_is_asyncios() -> None:
    coroutine = sync_to_async(_thread)()
    with pytest.raises(RuntimeError, match=r"^no running event loop$"):
        coroutine.send(None)
    coroutine.close()
    assert _call_in_run(_thread) is not threading.current_thread()


# ------------------------------------------- async_to_sync after its trio run stopped


def _library_and_thread() -> tuple[str, str]:
    """Run in a coroutine: which event loop library runs it, and in which thread."""
    import sniffio

    return sniffio.current_async_library(), threading.current_thread().name


async def _where_it_ran() -> tuple[str, str]:
    return _library_and_thread()


def _abandoned_worker(
    started: threading.Event, go_on: threading.Event, outcome: list[object], done: threading.Event
) -> None:
    """A sync_to_async function whose await is abandoned; it calls async_to_sync later."""
    started.set()
    assert go_on.wait(30)
    try:
        outcome.append(async_to_sync(_where_it_ran)())
    except BaseException as error:
        outcome.append(error)
    finally:
        done.set()


async def _abandon_a_call(
    started: threading.Event, go_on: threading.Event, outcome: list[object], done: threading.Event
) -> None:
    """Start ``_abandoned_worker`` in a worker thread, then cancel the await on it."""
    async with trio.open_nursery() as nursery:

        async def call() -> None:
            await sync_to_async(_abandoned_worker, thread_sensitive=False)(
                started, go_on, outcome, done
            )

        nursery.start_soon(call)
        assert await trio.to_thread.run_sync(started.wait, 30)
        nursery.cancel_scope.cancel()  # the function goes on, unobserved


def test_async_to_sync_after_the_run_finished_runs_on_a_loop_of_its_own() -> None:
    started, go_on, done = threading.Event(), threading.Event(), threading.Event()
    outcome: list[object] = []
    trio.run(_abandon_a_call, started, go_on, outcome, done)
    go_on.set()  # the trio run has returned
    assert done.wait(30)
    (ran,) = outcome
    assert isinstance(ran, tuple), ran
    library, thread = cast("tuple[str, str]", ran)
    assert library == "asyncio"
    assert thread != threading.current_thread().name


def test_async_to_sync_while_the_run_shuts_down_runs_on_a_loop_of_its_own() -> None:
    # The run's main task has returned and trio is cancelling its system tasks: one
    # of them holds the shutdown open while the abandoned thread calls async_to_sync.
    started, go_on, done = threading.Event(), threading.Event(), threading.Event()
    outcome: list[object] = []

    async def holds_the_shutdown_open() -> None:
        try:
            await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                go_on.set()
                assert await trio.to_thread.run_sync(done.wait, 30)

    async def main() -> None:
        trio.lowlevel.spawn_system_task(holds_the_shutdown_open)
        await _abandon_a_call(started, go_on, outcome, done)

    trio.run(main)
    assert done.is_set()
    (ran,) = outcome
    assert isinstance(ran, tuple), ran
    library, thread = cast("tuple[str, str]", ran)
    # Not trio.Cancelled, raised in a thread outside the run: the coroutine had not
    # started, so it runs as it would once the run has finished.
    assert library == "asyncio"
    assert thread == "asgiref-trio-late-call"

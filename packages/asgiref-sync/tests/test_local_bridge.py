"""Local values across sync_to_async / async_to_sync hops (20-local.md §3, §4 tables).

The matrix: both modes, every hop kind, and where the value is set (before the hop,
inside it, after it), plus concurrent tasks and threads writing the same name
and threads started while a value is set.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import pytest
from asgiref.local import Local, _DefaultLocal
from asgiref.sync import AsyncToSync, ThreadSensitiveContext, async_to_sync, sync_to_async

_T = TypeVar("_T")

MISSING: Any = object()


async def gather(calls: list[Callable[[], Awaitable[_T]]]) -> list[_T]:
    """Run ``calls`` as concurrent tasks (on either backend); their results in order."""
    results: dict[int, _T] = {}

    async def run(index: int) -> None:
        results[index] = await calls[index]()

    async with anyio.create_task_group() as group:
        for index in range(len(calls)):
            group.start_soon(run, index)
    return [results[index] for index in range(len(calls))]


def read(local: Local, name: str) -> Any:
    return getattr(local, name, MISSING)


def in_fresh_thread(func: Callable[[], _T]) -> _T:
    """Run ``func`` in a new thread with an empty context: a plain sync caller."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-caller") as pool:
        return pool.submit(func).result(timeout=30)


S2A_KINDS = pytest.mark.parametrize(
    "thread_sensitive", [True, False], ids=["thread-sensitive", "thread-pool"]
)


# =========================================================================== default mode


@pytest.mark.anyio
@S2A_KINDS
async def test_sync_to_async_values_go_in_and_come_back(thread_sensitive: bool) -> None:
    local = Local()
    local.before = "caller"
    local.to_delete = "caller"
    caller_thread = threading.get_ident()

    def func() -> tuple[Any, Any, bool]:
        seen = read(local, "before")
        local.inside = "func"
        local.before = "changed by func"
        del local.to_delete
        return seen, read(local, "inside"), threading.get_ident() != caller_thread

    seen, inside, other_thread = await sync_to_async(func, thread_sensitive=thread_sensitive)()
    assert (seen, inside, other_thread) == ("caller", "func", True)
    assert local.inside == "func"
    assert local.before == "changed by func"
    assert read(local, "to_delete") is MISSING
    # Set after the hop: an ordinary write in the caller, and the next hop sees it.
    local.after = "caller again"
    assert await sync_to_async(
        lambda: read(local, "after"), thread_sensitive=thread_sensitive
    )() == ("caller again")


@pytest.mark.anyio
async def test_sync_to_async_with_a_custom_executor() -> None:
    local = Local()
    local.value = 1

    def func() -> Any:
        seen = read(local, "value")
        local.value = 2
        return seen

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-custom") as executor:
        assert await sync_to_async(func, thread_sensitive=False, executor=executor)() == 1
    assert local.value == 2


@pytest.mark.anyio
@S2A_KINDS
async def test_sync_to_async_writes_come_back_after_an_exception(thread_sensitive: bool) -> None:
    local = Local()

    def func() -> None:
        local.value = "written before raising"
        raise LookupError("boom")

    with pytest.raises(LookupError):
        await sync_to_async(func, thread_sensitive=thread_sensitive)()
    assert local.value == "written before raising"


# Under trio a cancelled call is abandoned and its writes are not copied back
# (DEVIATIONS.md, sync-trio); asyncio waits for the function and copies them.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_sync_to_async_writes_come_back_after_cancellation() -> None:
    local = Local()
    started = threading.Event()
    release = threading.Event()

    def func() -> None:
        local.value = "written before the cancel"
        started.set()
        release.wait(timeout=30)

    async def caller() -> Any:
        try:
            await sync_to_async(func, thread_sensitive=False)()
        except asyncio.CancelledError:
            return read(local, "value")
        return "not cancelled"

    task = asyncio.create_task(caller())
    await asyncio.to_thread(started.wait, 30)
    task.cancel()
    try:
        assert await task == "written before the cancel"
    finally:
        release.set()


@pytest.mark.anyio
async def test_sync_to_async_explicit_context() -> None:
    local = Local()
    local.value = "caller"
    ctx = contextvars.copy_context()
    ctx.run(setattr, local, "value", "ctx")

    def func() -> Any:
        seen = read(local, "value")
        local.value = "func"
        local.extra = 1
        return seen

    assert await sync_to_async(func, context=ctx)() == "ctx"
    assert local.value == "caller"
    assert read(local, "extra") is MISSING
    # The data in ctx stayed with the worker thread that last ran it.
    assert await sync_to_async(lambda: read(local, "value"), context=ctx)() == "func"


def test_async_to_sync_values_go_in_and_come_back() -> None:
    def caller() -> None:
        local = Local()
        local.before = "caller"
        local.to_delete = 1

        async def coroutine() -> Any:
            seen = read(local, "before")
            local.inside = "coroutine"
            del local.to_delete
            return seen

        assert async_to_sync(coroutine)() == "caller"
        assert local.inside == "coroutine"
        assert read(local, "to_delete") is MISSING
        local.after = "set after"

        async def second() -> Any:
            return read(local, "after"), read(local, "inside")

        assert async_to_sync(second)() == ("set after", "coroutine")

    in_fresh_thread(caller)


def test_async_to_sync_writes_come_back_after_an_exception() -> None:
    def caller() -> Any:
        local = Local()

        async def coroutine() -> None:
            local.value = "before raising"
            raise LookupError

        with pytest.raises(LookupError):
            async_to_sync(coroutine)()
        return local.value

    assert in_fresh_thread(caller) == "before raising"


def test_arbitrary_depth() -> None:
    local = Local()

    def bottom() -> Any:
        seen = read(local, "top")
        local.bottom = "bottom"
        return seen

    async def level3() -> Any:
        seen = await sync_to_async(bottom)()
        local.level3 = read(local, "bottom")
        return seen

    def level2() -> Any:
        return async_to_sync(level3)()

    async def level1() -> Any:
        return await sync_to_async(level2)()

    def top() -> tuple[Any, Any, Any]:
        local.top = "top"
        return async_to_sync(level1)(), read(local, "bottom"), read(local, "level3")

    assert in_fresh_thread(top) == ("top", "bottom", "bottom")


def test_task_inside_async_to_sync_keeps_its_writes() -> None:
    def caller() -> tuple[Any, Any]:
        local = Local()

        def func() -> None:
            local.from_task = "task"

        async def coroutine() -> Any:
            await asyncio.create_task(sync_to_async(func)())
            return read(local, "from_task")

        return async_to_sync(coroutine)(), read(local, "from_task")

    assert in_fresh_thread(caller) == (MISSING, MISSING)


def test_parent_loop_mode_round_trip() -> None:
    """sync_to_async worker → async_to_sync back onto the awaiting loop → values both ways."""
    local = Local()

    async def main() -> tuple[Any, Any, Any]:
        local.outer = "loop"
        loop_thread = threading.get_ident()

        def worker() -> tuple[Any, Any]:
            async def back_on_loop() -> Any:
                assert threading.get_ident() == loop_thread
                local.from_loop = "back"
                return read(local, "outer")

            return async_to_sync(back_on_loop)(), read(local, "from_loop")

        seen_in_loop, seen_in_worker = await sync_to_async(worker)()
        return seen_in_loop, seen_in_worker, read(local, "from_loop")

    assert asyncio.run(main()) == ("loop", "back", "back")


def test_force_new_loop_round_trip() -> None:
    local = Local()

    async def main() -> tuple[Any, Any]:
        local.outer = 1

        def worker() -> Any:
            async def elsewhere() -> Any:
                local.inner = 2
                return read(local, "outer")

            return async_to_sync(elsewhere, force_new_loop=True)()

        return await sync_to_async(worker)(), read(local, "inner")

    assert asyncio.run(main()) == (1, 2)


@pytest.mark.anyio
@S2A_KINDS
async def test_concurrent_tasks_writing_the_same_name_across_hops(thread_sensitive: bool) -> None:
    local = Local()
    local.value = "parent"
    count = 20

    def func(index: int) -> Any:
        seen = read(local, "value")
        local.value = ("func", index)
        return seen

    async def task(index: int) -> tuple[Any, Any, Any]:
        local.value = ("task", index)
        seen_in_func = await sync_to_async(func, thread_sensitive=thread_sensitive)(index)
        after_hop = read(local, "value")
        await anyio.lowlevel.checkpoint()  # let siblings interleave between our hops
        again = await sync_to_async(
            lambda: read(local, "value"), thread_sensitive=thread_sensitive
        )()
        return seen_in_func, after_hop, again

    results = await gather([functools.partial(task, i) for i in range(count)])
    assert results == [(("task", i), ("func", i), ("func", i)) for i in range(count)]
    assert local.value == "parent"


def test_concurrent_threads_writing_the_same_name_across_hops() -> None:
    local = Local()
    count = 8
    start = threading.Barrier(count)

    async def coroutine(index: int) -> Any:
        seen = read(local, "value")
        local.value = ("coroutine", index)
        await asyncio.sleep(0)
        return seen

    def caller(index: int) -> tuple[Any, Any]:
        local.value = ("thread", index)
        start.wait(timeout=30)
        seen = async_to_sync(coroutine)(index)
        return seen, read(local, "value")

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="test-callers") as pool:
        results = list(pool.map(caller, range(count)))
    assert results == [(("thread", i), ("coroutine", i)) for i in range(count)]
    assert read(local, "value") is MISSING


@pytest.mark.anyio
async def test_threads_started_inside_a_hop_start_empty() -> None:
    local = Local()
    local.value = "set"

    def func() -> tuple[Any, Any, Any]:
        seen_here = read(local, "value")
        plain = in_fresh_thread(lambda: read(local, "value"))
        ctx = contextvars.copy_context()
        copied = in_fresh_thread(lambda: ctx.run(read, local, "value"))
        return seen_here, plain, copied

    assert await sync_to_async(func)() == ("set", MISSING, MISSING)
    assert await sync_to_async(func, thread_sensitive=False)() == ("set", MISSING, MISSING)


def test_to_thread_inside_async_to_sync_sees_nothing() -> None:
    def caller() -> tuple[Any, Any, Any]:
        local = Local()
        local.value = "caller"

        def worker() -> Any:
            seen = read(local, "value")
            local.value = "worker"
            return seen

        async def coroutine() -> tuple[Any, Any]:
            return await asyncio.to_thread(worker), read(local, "value")

        in_loop = async_to_sync(coroutine)()
        return *in_loop, local.value

    assert in_fresh_thread(caller) == (MISSING, "caller", "caller")


def test_bridge_executors_is_a_default_mode_local() -> None:
    assert type(AsyncToSync.executors) is _DefaultLocal


# =========================================================================== thread-critical


@pytest.mark.anyio
@S2A_KINDS
async def test_critical_sync_to_async_does_not_carry(thread_sensitive: bool) -> None:
    local = Local(True)
    local.value = "loop"

    def func() -> Any:
        seen = read(local, "value")
        local.value = "worker"
        local.worker_only = True
        return seen

    assert await sync_to_async(func, thread_sensitive=thread_sensitive)() is MISSING
    assert local.value == "loop"
    assert read(local, "worker_only") is MISSING


def test_critical_async_to_sync_does_not_carry() -> None:
    def caller() -> tuple[Any, Any, Any]:
        local = Local(True)
        local.value = "caller"

        async def coroutine() -> Any:
            seen = read(local, "value")
            local.value = "loop"
            return seen

        return async_to_sync(coroutine)(), local.value, read(local, "worker_only")

    assert in_fresh_thread(caller) == (MISSING, "caller", MISSING)


def test_critical_task_bridged_back_to_the_outer_thread() -> None:
    def caller() -> tuple[Any, Any]:
        local = Local(True)
        outer_thread = threading.get_ident()

        def func() -> bool:
            local.from_func = "outer thread"
            return threading.get_ident() == outer_thread

        async def coroutine() -> bool:
            return await asyncio.create_task(sync_to_async(func)())

        return async_to_sync(coroutine)(), read(local, "from_func")

    assert in_fresh_thread(caller) == (True, "outer thread")


def test_critical_value_stays_with_the_thread_sensitive_worker() -> None:
    """Django's database connections: made in a TS worker, found there again."""
    connections = Local(True)

    def connect() -> tuple[int, int]:
        if not hasattr(connections, "default"):
            connections.default = object()
        return id(connections.default), threading.get_ident()

    async def main() -> None:
        first = await sync_to_async(connect)()
        second = await sync_to_async(connect)()
        assert first == second
        assert read(connections, "default") is MISSING

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-tsc") as executor:
            async with ThreadSensitiveContext(executor=executor):
                in_block = await sync_to_async(connect)()
            async with ThreadSensitiveContext(executor=executor):
                again = await sync_to_async(connect)()
            assert in_block == again
            assert in_block[1] != first[1]

    asyncio.run(main())


@pytest.mark.anyio
async def test_critical_tasks_isolated_across_hops() -> None:
    local = Local(True)
    count = 10

    async def task(index: int) -> tuple[Any, Any]:
        local.value = index
        in_worker = await sync_to_async(lambda: read(local, "value"))()
        return in_worker, local.value

    results = await gather([functools.partial(task, i) for i in range(count)])
    assert results == [(MISSING, i) for i in range(count)]

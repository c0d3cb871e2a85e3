"""Which thread runs each call: the spec's "Resulting thread" and "coroutine runs on" tables."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import (
    AsyncSingleThreadContext,
    SyncToAsync,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)


def _no_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def where() -> threading.Thread:
    """Where a sync function runs; Django's async_unsafe needs no running loop there."""
    assert _no_running_loop()
    return threading.current_thread()


async def loop_thread() -> threading.Thread:
    return threading.current_thread()


def _task_in_empty_context(coro: Any) -> asyncio.Task[Any]:
    # create_task(context=) is 3.11+; entering an empty Context works everywhere.
    loop = asyncio.get_running_loop()
    return contextvars.Context().run(loop.create_task, coro)


# --- Resulting thread for thread-sensitive code ---------------------------------------


def test_async_caller_without_tsc_uses_the_process_wide_thread() -> None:
    async def main() -> tuple[threading.Thread, threading.Thread]:
        first = await sync_to_async(where)()
        second = await asyncio.create_task(sync_to_async(where)())
        return first, second

    first, second = asyncio.run(main())
    third, _ = asyncio.run(main())
    assert first is second is third
    assert first is not threading.current_thread()
    assert first in SyncToAsync.single_thread_executor._threads


def test_tsc_gets_a_dedicated_thread_and_concurrent_tscs_differ() -> None:
    barrier = threading.Barrier(2, timeout=10)

    def meet() -> threading.Thread:
        # Both contexts must be inside a call at once: one shared thread would deadlock.
        barrier.wait()
        return where()

    async def request() -> tuple[threading.Thread, threading.Thread]:
        async with ThreadSensitiveContext():
            first = await sync_to_async(meet)()
            again = await sync_to_async(where)()
            return first, again

    async def main() -> list[tuple[threading.Thread, threading.Thread]]:
        return list(await asyncio.gather(request(), request()))

    (a1, a2), (b1, b2) = asyncio.run(main())
    assert a1 is a2
    assert b1 is b2
    assert a1 is not b1
    process_wide = SyncToAsync.single_thread_executor._threads
    assert a1 not in process_wide
    assert b1 not in process_wide


@pytest.mark.parametrize("outer_thread_sensitive", [True, False])
def test_async_outer_sync_inner_bridge_runs_ts_on_outer_thread(
    outer_thread_sensitive: bool,
) -> None:
    async def inner() -> tuple[threading.Thread, threading.Thread]:
        return threading.current_thread(), await sync_to_async(where)()

    def outer() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        coroutine_thread, ts_thread = async_to_sync(inner)()
        return where(), coroutine_thread, ts_thread

    async def main() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        return await sync_to_async(outer, thread_sensitive=outer_thread_sensitive)()

    outer_thread, coroutine_thread, ts_thread = asyncio.run(main())
    assert ts_thread is outer_thread
    # The coroutine ran on the awaiting (parent) loop: the main thread under asyncio.run.
    assert coroutine_thread is threading.current_thread()


def test_sync_caller_bridge_runs_ts_on_calling_thread_including_tasks() -> None:
    async def inner() -> dict[str, threading.Thread]:
        return {
            "direct": await sync_to_async(where)(),
            "task": await asyncio.create_task(sync_to_async(where)()),
            "empty-context task": await _task_in_empty_context(sync_to_async(where)()),
            "coroutine": threading.current_thread(),
        }

    threads = async_to_sync(inner)()
    me = threading.current_thread()
    assert threads["direct"] is me
    assert threads["task"] is me
    assert threads["empty-context task"] is me
    assert threads["coroutine"] is not me


def test_bridge_wins_over_a_plain_tsc() -> None:
    async def inner() -> threading.Thread:
        async with ThreadSensitiveContext():
            return await sync_to_async(where)()

    assert async_to_sync(inner)() is threading.current_thread()


def test_tsc_with_executor_wins_everywhere() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor_thread = executor.submit(threading.current_thread).result()

        async def in_context() -> threading.Thread:
            async with ThreadSensitiveContext(executor=executor):
                return await sync_to_async(where)()

        async def inside_other_tsc() -> threading.Thread:
            async with ThreadSensitiveContext():
                return await in_context()

        assert asyncio.run(in_context()) is executor_thread
        assert asyncio.run(inside_other_tsc()) is executor_thread
        # Inside a bridge, too.
        assert async_to_sync(in_context)() is executor_thread


def test_tsc_with_executor_nested_bridge_goes_to_its_caller() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:

        async def innermost() -> threading.Thread:
            return await sync_to_async(where)()

        def bridge() -> tuple[threading.Thread, threading.Thread]:
            return where(), async_to_sync(innermost)()

        async def main() -> tuple[threading.Thread, threading.Thread]:
            async with ThreadSensitiveContext(executor=executor):
                return await sync_to_async(bridge)()

        caller, inner = asyncio.run(main())
        assert inner is caller
        assert caller is executor.submit(threading.current_thread).result()


def test_force_new_loop_from_worker_keeps_ts_on_calling_thread() -> None:
    async def inner() -> tuple[threading.Thread, threading.Thread]:
        return threading.current_thread(), await sync_to_async(where)()

    def outer() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        coroutine_thread, ts_thread = async_to_sync(inner, force_new_loop=True)()
        return where(), coroutine_thread, ts_thread

    async def main() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        return await sync_to_async(outer)()

    outer_thread, coroutine_thread, ts_thread = asyncio.run(main())
    assert ts_thread is outer_thread
    # A loop of its own: neither the parent loop's thread nor the caller's.
    assert coroutine_thread is not threading.current_thread()
    assert coroutine_thread is not outer_thread


def test_non_thread_sensitive_uses_loop_default_executor_or_given_one() -> None:
    async def main() -> tuple[str, threading.Thread, threading.Thread]:
        default = await sync_to_async(where, thread_sensitive=False)()
        with ThreadPoolExecutor(1, thread_name_prefix="mine") as executor:
            given = await sync_to_async(where, thread_sensitive=False, executor=executor)()
            mine = executor.submit(threading.current_thread).result()
        return default.name, given, mine

    default_name, given, mine = asyncio.run(main())
    assert default_name.startswith("asyncio_")
    assert given is mine


def test_tsc_does_not_affect_non_thread_sensitive_calls() -> None:
    async def main() -> str:
        async with ThreadSensitiveContext():
            return (await sync_to_async(where, thread_sensitive=False)()).name

    assert asyncio.run(main()).startswith("asyncio_")


# --- Which thread runs the coroutine ---------------------------------------------------


def test_plain_sync_thread_gets_a_loop_in_another_thread() -> None:
    seen: list[threading.Thread] = []

    async def record() -> asyncio.AbstractEventLoop:
        seen.append(threading.current_thread())
        return asyncio.get_running_loop()

    loop = async_to_sync(record)()
    assert seen[0] is not threading.current_thread()
    assert not loop.is_running() or seen[0].is_alive()


def test_astc_runs_every_call_on_one_thread() -> None:
    def in_other_thread() -> threading.Thread:
        return async_to_sync(loop_thread)()

    with AsyncSingleThreadContext() as context:
        assert isinstance(context, AsyncSingleThreadContext)
        first = async_to_sync(loop_thread)()
        second = async_to_sync(loop_thread)()
        with AsyncSingleThreadContext():  # nested: inactive, same thread
            third = async_to_sync(loop_thread)()
        # A thread started inside the context (context copied) shares it too.
        fourth_holder: list[threading.Thread] = []
        ctx = contextvars.copy_context()
        worker = threading.Thread(target=lambda: fourth_holder.append(ctx.run(in_other_thread)))
        worker.start()
        worker.join()
    assert first is second is third is fourth_holder[0]
    assert first is not threading.current_thread()


def test_astc_without_calls_exits_cleanly_and_token() -> None:
    outer = AsyncSingleThreadContext()
    inner = AsyncSingleThreadContext()
    with outer:
        assert outer.token is not None
        with inner:
            assert inner.token is None
        assert async_to_sync(loop_thread)() is not threading.current_thread()
    # Exited: a later block becomes active again.
    with AsyncSingleThreadContext() as again:
        assert again.token is not None


def test_astc_does_not_change_parent_loop_calls() -> None:
    def bridge() -> threading.Thread:
        with AsyncSingleThreadContext():
            return async_to_sync(loop_thread)()

    async def main() -> threading.Thread:
        return await sync_to_async(bridge)()

    assert asyncio.run(main()) is threading.current_thread()


@pytest.mark.parametrize("thread_sensitive", [True, False])
def test_worker_bridge_runs_coroutine_on_parent_loop(thread_sensitive: bool) -> None:
    def bridge() -> threading.Thread:
        return async_to_sync(loop_thread)()

    async def main() -> threading.Thread:
        return await sync_to_async(bridge, thread_sensitive=thread_sensitive)()

    assert asyncio.run(main()) is threading.current_thread()


def test_worker_bridge_with_force_new_loop_uses_another_thread() -> None:
    def bridge() -> tuple[threading.Thread, threading.Thread]:
        return where(), async_to_sync(loop_thread, force_new_loop=True)()

    async def main() -> tuple[threading.Thread, threading.Thread]:
        return await sync_to_async(bridge)()

    caller, coroutine_thread = asyncio.run(main())
    assert coroutine_thread is not threading.current_thread()
    assert coroutine_thread is not caller


# --- Deadlock detection and forwarding ---------------------------------------------------


def test_nested_asyncio_run_in_process_wide_thread_raises_instead_of_hanging() -> None:
    async def innermost() -> None:
        await sync_to_async(where)()

    def outer() -> None:
        asyncio.run(innermost())

    async def main() -> None:
        await sync_to_async(outer)()

    with pytest.raises(RuntimeError) as caught:
        asyncio.run(main())
    # The message exactly (pytest's match= would also search the notes ours adds).
    assert str(caught.value) == "Single thread executor already being used, would deadlock"


def test_task_outliving_its_bridge_forwards_to_the_enclosing_one() -> None:
    # sync -> async_to_sync(outer) -> sync_to_async(middle) -> async_to_sync(inner) which
    # starts a task that makes its TS call only after inner's bridge has finished.
    go = asyncio.Event()

    async def late_ts_call() -> threading.Thread:
        await go.wait()
        return await sync_to_async(where)()

    async def inner() -> asyncio.Task[threading.Thread]:
        return asyncio.create_task(late_ts_call())

    def middle() -> asyncio.Task[threading.Thread]:
        return async_to_sync(inner)()

    async def outer() -> threading.Thread:
        nonlocal go
        go = asyncio.Event()
        task = await sync_to_async(middle)()
        go.set()
        return await task

    assert async_to_sync(outer)() is threading.current_thread()


def test_deep_nesting_keeps_ts_on_outermost_sync_thread() -> None:
    async def level(depth: int) -> list[threading.Thread]:
        here = await sync_to_async(where)()
        if depth == 0:
            return [here]

        def deeper() -> list[threading.Thread]:
            return [where(), *async_to_sync(level)(depth - 1)]

        return [here, *await sync_to_async(deeper)()]

    threads = async_to_sync(level)(4)
    assert threads
    assert all(thread is threading.current_thread() for thread in threads)


def test_wait_for_and_call_later_inside_nested_bridges() -> None:
    async def inner() -> threading.Thread:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        loop.call_later(0, future.set_result, 1)
        await future
        return await asyncio.wait_for(sync_to_async(where)(), timeout=30)

    def middle() -> threading.Thread:
        return async_to_sync(inner)()

    async def outer() -> threading.Thread:
        return await sync_to_async(middle)()

    assert async_to_sync(outer)() is threading.current_thread()

"""Cancellation of sync_to_async awaits, and asyncio.run-like endings of async_to_sync calls."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
import pytest
from asgiref.sync import SyncToAsync, async_to_sync, sync_to_async

var: contextvars.ContextVar[str] = contextvars.ContextVar("test_sync_cancellation_var")
WAIT = 10  # seconds; only ever reached if the code under test is broken


async def _until(event: threading.Event) -> None:
    # The event is set from a worker thread: wait for it without blocking the loop.
    assert await anyio.to_thread.run_sync(event.wait, WAIT)


@pytest.mark.anyio
async def test_cancel_raises_promptly_while_function_keeps_running() -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def blocking() -> str:
        started.set()
        var.set("changed by function")
        release.wait(WAIT)
        finished.set()
        return "discarded"

    var.set("caller")
    cancelled: list[bool] = []

    async def call(scope: anyio.CancelScope) -> None:
        with scope:
            try:
                await sync_to_async(blocking, thread_sensitive=False)()
            except anyio.get_cancelled_exc_class():
                cancelled.append(True)
                raise

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()
            group.start_soon(call, scope)
            await _until(started)
            scope.cancel()
    assert cancelled == [True]
    # Raised without waiting for the function.
    assert not finished.is_set()
    release.set()
    await _until(finished)


@pytest.mark.anyio
async def test_cancel_drops_work_not_yet_started_and_resets_deadlock_flag() -> None:
    gate, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold() -> None:
        started.set()
        gate.wait(WAIT)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(sync_to_async(hold))
            await _until(started)
            async with anyio.create_task_group() as queuing:
                queuing.start_soon(sync_to_async(ran.append), "should not run")
                # Queued behind the holder, waiting for its result.
                await anyio.wait_all_tasks_blocked()
                queuing.cancel_scope.cancel()
            gate.set()
        # Drain the single thread: anything queued before now has had its chance.
        await sync_to_async(lambda: None)()

    with anyio.fail_after(WAIT):
        await main()
    assert ran == []
    assert SyncToAsync.deadlock_context.get(False) is False


# asyncio hands a cancellation to the inner bridge task first and waits for the
# function; trio abandons a cancelled call at once (DEVIATIONS.md, sync-trio).
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
@pytest.mark.parametrize("swallow", [True, False])
async def test_cancel_reaches_the_inner_bridge_task_first(swallow: bool) -> None:
    started = threading.Event()
    inner_waiting = asyncio.Event()
    log: list[Any] = []

    async def inner() -> str:
        inner_waiting.set()
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            log.append("inner cancelled")
            if swallow:
                return "swallowed"
            raise
        return "slept"

    def outer() -> str:
        started.set()
        try:
            result = async_to_sync(inner)()
        except asyncio.CancelledError:
            log.append("outer saw CancelledError")
            return "outer recovered"
        return f"outer got {result}"

    task = asyncio.create_task(sync_to_async(outer, thread_sensitive=False)())
    await _until(started)
    await inner_waiting.wait()  # the inner task runs on this loop
    task.cancel()
    # The inner task ended (the bridge hands its outcome over), so the await keeps
    # waiting for the function and returns what it returns.
    result = await task
    assert log[0] == "inner cancelled"
    if swallow:
        assert result == "outer got swallowed"
    else:
        assert result == "outer recovered"
        assert log[1] == "outer saw CancelledError"


def test_cancelled_coroutine_raises_cancelled_error_in_caller() -> None:
    async def cancel_self() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    with pytest.raises(asyncio.CancelledError):
        async_to_sync(cancel_self)()


def test_leftover_tasks_are_cancelled_before_the_call_returns() -> None:
    log: list[str] = []

    async def background() -> None:
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        finally:
            log.append("finally ran")

    async def main() -> str:
        asyncio.create_task(background())  # noqa: RUF006 - left behind on purpose
        await asyncio.sleep(0)
        return "done"

    assert async_to_sync(main)() == "done"
    assert log == ["cancelled", "finally ran"]
    # The next call starts clean.
    assert async_to_sync(main)() == "done"
    assert log == ["cancelled", "finally ran", "cancelled", "finally ran"]


def test_async_generators_are_finalised_at_the_end_of_the_call() -> None:
    log: list[str] = []

    async def numbers() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            log.append("generator closed")

    holder: list[AsyncIterator[int]] = []

    async def main() -> int:
        generator = numbers()
        holder.append(generator)  # keep it alive so only the call's cleanup can close it
        return await generator.__anext__()

    assert async_to_sync(main)() == 1
    assert log == ["generator closed"]


def test_default_executor_work_is_waited_for() -> None:
    release = threading.Event()
    finished: list[str] = []

    def slow() -> None:
        release.wait(WAIT)
        finished.append("done")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, slow)  # not awaited
        loop.call_soon(release.set)

    async_to_sync(main)()
    assert finished == ["done"]


def test_leftover_task_exceptions_are_reported_to_the_loop_handler() -> None:
    reported: list[dict[str, Any]] = []

    async def failing_on_cancel() -> None:
        try:
            await asyncio.sleep(WAIT)
        finally:
            raise ValueError("during cleanup")

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: reported.append(ctx))
        asyncio.create_task(failing_on_cancel())  # noqa: RUF006
        await asyncio.sleep(0)

    async_to_sync(main)()
    assert len(reported) == 1
    assert isinstance(reported[0]["exception"], ValueError)
    # Leave the reused loop as we found it.

    async def reset() -> None:
        asyncio.get_running_loop().set_exception_handler(None)

    async_to_sync(reset)()


def test_parent_loop_mode_leaves_tasks_running() -> None:
    survived: list[str] = []
    release = asyncio.Event()

    async def background() -> None:
        await release.wait()
        survived.append("ran to completion")

    async def spawn() -> None:
        asyncio.create_task(background())  # noqa: RUF006

    def bridge() -> None:
        async_to_sync(spawn)()

    async def main() -> None:
        nonlocal release
        release = asyncio.Event()
        await sync_to_async(bridge)()
        release.set()
        await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not asyncio.current_task()))

    asyncio.run(main())
    assert survived == ["ran to completion"]

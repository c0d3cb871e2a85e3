"""ThreadSensitiveContext with and without an executor."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from asgiref.local import Local
from asgiref.sync import AsyncToSync, SyncToAsync, ThreadSensitiveContext, sync_to_async


@pytest.mark.anyio
async def test_exit_waits_for_queued_work() -> None:
    done: list[int] = []
    release = threading.Event()

    def slow(i: int) -> None:
        release.wait(10)
        done.append(i)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            async with ThreadSensitiveContext():
                for i in range(3):
                    # The tasks copy the context here; one at a time, so they queue
                    # their calls in this order (trio may run new tasks in any order).
                    group.start_soon(sync_to_async(slow), i)
                    await anyio.wait_all_tasks_blocked()
                release.set()
            assert done == [0, 1, 2]


@pytest.mark.anyio
async def test_exceptions_propagate_and_aenter_returns_self() -> None:
    context = ThreadSensitiveContext()
    failing = sync_to_async(lambda: 1 / 0)
    async with context as entered:
        assert entered is context
    with pytest.raises(ZeroDivisionError):
        async with ThreadSensitiveContext():
            await failing()


@pytest.mark.ours_only("sync-tsc-lanes-reused")
@pytest.mark.anyio
async def test_lanes_are_reused_across_sequential_contexts() -> None:
    threads: list[threading.Thread] = []
    for _ in range(3):
        async with ThreadSensitiveContext():
            threads.append(await sync_to_async(threading.current_thread)())
    assert threads[0] is threads[1] is threads[2]
    assert threads[0].name.startswith("asgiref-tsc-lane-")


@pytest.mark.anyio
async def test_executor_context_errors_and_reuse() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        context = ThreadSensitiveContext(executor=executor)
        async with context:
            with pytest.raises(RuntimeError, match=r"^ThreadSensitiveContext is already entered$"):
                async with context:
                    pass
        with pytest.raises(
            RuntimeError,
            match=r"^ThreadSensitiveContext with an executor cannot be entered again$",
        ):
            async with context:
                pass
        # Not shut down: a later context reuses it, with its thread-critical data.
        critical = Local(thread_critical=True)

        def write() -> None:
            critical.value = "kept"

        def read() -> str:
            return str(critical.value)

        async with ThreadSensitiveContext(executor=executor):
            await sync_to_async(write)()
        async with ThreadSensitiveContext(executor=executor):
            assert await sync_to_async(read)() == "kept"
        assert executor.submit(lambda: 3).result() == 3


@pytest.mark.anyio
async def test_tasks_outliving_an_executor_context_get_an_error() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        go = anyio.Event()
        raised: list[BaseException] = []

        async def late() -> None:
            await go.wait()
            try:
                await sync_to_async(lambda: None)()
            except RuntimeError as error:
                raised.append(error)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                async with ThreadSensitiveContext(executor=executor):
                    group.start_soon(late)  # the task copies the context here
                go.set()
        (error,) = raised
        assert str(error) == (
            "ThreadSensitiveContext has exited. Tasks created inside a context with "
            "an executor must finish before it exits."
        )


@pytest.mark.anyio
async def test_executor_context_restores_bridge_and_parent() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        async with ThreadSensitiveContext() as outer:
            AsyncToSync.executors.current = None
            async with ThreadSensitiveContext(executor=executor) as inner:
                assert SyncToAsync.thread_sensitive_context.get() is inner
                async with ThreadSensitiveContext() as nested_plain:
                    assert nested_plain.token is None
            assert SyncToAsync.thread_sensitive_context.get() is outer
            assert inner not in SyncToAsync.context_to_thread_executor


@pytest.mark.anyio
async def test_late_call_after_plain_context_exit_gets_a_thread() -> None:
    # As published: a new thread, never the one the context's own calls ran on
    # (that one is back in the pool, and would be the next one handed out).
    go = anyio.Event()
    threads: list[threading.Thread] = []
    context_thread: threading.Thread | None = None

    async def late() -> None:
        await go.wait()
        threads.append(await sync_to_async(threading.current_thread)())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            async with ThreadSensitiveContext():
                context_thread = await sync_to_async(threading.current_thread)()
                group.start_soon(late)  # the task copies the context here
            go.set()
    (thread,) = threads
    assert thread is not threading.current_thread()
    assert thread is not context_thread

"""Internals that Channels, monitoring agents and user code touch, used the way they use them."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.local import Local
from asgiref.sync import (
    AsyncSingleThreadContext,
    AsyncToSync,
    SyncToAsync,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)


def test_class_attributes_have_the_published_types() -> None:
    assert isinstance(SyncToAsync.threadlocal, threading.local)
    assert isinstance(SyncToAsync.single_thread_executor, ThreadPoolExecutor)
    assert isinstance(SyncToAsync.thread_sensitive_context, contextvars.ContextVar)
    assert SyncToAsync.thread_sensitive_context.name == "thread_sensitive_context"
    assert SyncToAsync.deadlock_context.name == "deadlock_context"
    assert isinstance(AsyncToSync.executors, Local)
    assert isinstance(AsyncToSync.loop_thread_executors, dict)
    assert AsyncToSync.async_single_thread_context.name == "async_single_thread_context"
    assert id(AsyncToSync.context_to_thread_executor) != id(SyncToAsync.context_to_thread_executor)
    assert not hasattr(SyncToAsync, "launch_map")


def test_channels_style_subclass_overriding_thread_handler() -> None:
    calls: list[tuple[Any, ...]] = []

    class DatabaseSyncToAsync(SyncToAsync[..., Any]):
        def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(("before", threading.current_thread()))
            try:
                return super().thread_handler(loop, *args, **kwargs)
            finally:
                calls.append(("after", threading.current_thread()))

    database_sync_to_async = DatabaseSyncToAsync

    @database_sync_to_async
    def query(x: int) -> int:
        return x + 1

    class Consumer:
        @database_sync_to_async
        def method(self, x: int) -> tuple[Consumer, int]:
            return self, x

    consumer = Consumer()

    async def main() -> tuple[int, tuple[Consumer, int]]:
        return await query(1), await consumer.method(5)

    assert asyncio.run(main()) == (2, (consumer, 5))
    assert [c[0] for c in calls] == ["before", "after", "before", "after"]
    assert calls[0][1] is not threading.current_thread()


def test_apm_wrapping_thread_handler_sees_the_published_call_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    original: Any = vars(SyncToAsync)["thread_handler"]

    def wrapper(self: SyncToAsync[..., Any], loop: Any, *args: Any, **kwargs: Any) -> Any:
        exc_info, task_context, _func, child = args
        seen.append(
            {"loop": loop, "exc_info": exc_info, "task_context": task_context, "child": child}
        )
        # Agents pop the keyword they injected before the call reaches the function.
        child.keywords.pop("injected_by_agent", None)
        return original(self, loop, *args, **kwargs)

    def user_function(a: int, *, b: int) -> int:
        return a * b

    async def main() -> int:
        wrapped = sync_to_async(user_function)
        return await wrapped(3, b=4, injected_by_agent=True)  # type: ignore[call-arg]

    monkeypatch.setattr(SyncToAsync, "thread_handler", wrapper)
    assert asyncio.run(main()) == 12
    (call,) = seen
    child = call["child"]
    assert isinstance(child, functools.partial)
    assert child.func is user_function
    assert child.args == (3,)
    assert child.keywords == {"b": 4}
    assert call["exc_info"] == (None, None, None)
    assert call["task_context"] == []
    assert isinstance(call["loop"], asyncio.AbstractEventLoop)


def test_apm_wrapping_call_and_main_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    original_call: Any = vars(SyncToAsync)["__call__"]
    original_main_wrap: Any = vars(AsyncToSync)["main_wrap"]

    async def call_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        events.append("SyncToAsync.__call__")
        return await original_call(self, *args, **kwargs)

    def main_wrap_wrapper(self: Any, *args: Any) -> Any:
        events.append("AsyncToSync.main_wrap")
        call_result, _exc_info, _task_context, context, _awaitable = args
        assert isinstance(call_result, Future)
        assert type(context) is list
        assert [type(item) for item in args[3]] == [contextvars.Context]
        return original_main_wrap(self, *args)  # the agent awaits what this returns

    async def coroutine() -> int:
        return await sync_to_async(lambda: 7)()

    monkeypatch.setattr(SyncToAsync, "__call__", call_wrapper)
    monkeypatch.setattr(AsyncToSync, "main_wrap", main_wrap_wrapper)
    assert async_to_sync(coroutine)() == 7
    assert events == ["AsyncToSync.main_wrap", "SyncToAsync.__call__"]


def test_reassigning_single_thread_executor_is_honoured_at_call_time() -> None:
    original = SyncToAsync.single_thread_executor
    replacement = ThreadPoolExecutor(max_workers=1, thread_name_prefix="user-replacement")
    wrapper = sync_to_async(threading.current_thread)  # created before the reassignment
    SyncToAsync.single_thread_executor = replacement
    try:
        thread = asyncio.run(wrapper())
        assert thread in replacement._threads
        assert thread.name.startswith("user-replacement")
    finally:
        SyncToAsync.single_thread_executor = original
        replacement.shutdown()
    assert asyncio.run(wrapper()) in SyncToAsync.single_thread_executor._threads


def test_threadlocal_fields_are_set_in_the_worker() -> None:
    def read() -> tuple[Any, Any, Any]:
        local = SyncToAsync.threadlocal
        return local.main_event_loop, local.main_event_loop_pid, local.task_context

    async def main() -> tuple[Any, Any, Any, asyncio.AbstractEventLoop]:
        return (*await sync_to_async(read)(), asyncio.get_running_loop())

    import os

    loop, pid, task_context, running = asyncio.run(main())
    assert loop is running
    assert pid == os.getpid()
    assert task_context == []


def test_executors_current_is_readable_and_writable() -> None:
    seen: list[Any] = []

    async def inner() -> None:
        seen.append(AsyncToSync.executors.current)

    def outer() -> None:
        async_to_sync(inner)()

    AsyncToSync.executors.current = None
    outer()
    assert isinstance(seen[0], CurrentThreadExecutor)
    assert AsyncToSync.executors.current is None


def test_thread_sensitive_context_registry_is_visible() -> None:
    async def main() -> None:
        async with ThreadSensitiveContext() as tsc:
            assert SyncToAsync.thread_sensitive_context.get() is tsc
            assert tsc.token is not None
            assert tsc not in SyncToAsync.context_to_thread_executor
            await sync_to_async(lambda: None)()
            assert tsc in SyncToAsync.context_to_thread_executor
            async with ThreadSensitiveContext() as nested:
                assert nested.token is None
                assert SyncToAsync.thread_sensitive_context.get() is tsc
        assert tsc not in SyncToAsync.context_to_thread_executor
        assert SyncToAsync.thread_sensitive_context.get(None) is None

    asyncio.run(main())


def test_loop_thread_executors_registered_only_while_running() -> None:
    seen: list[Any] = []

    async def inner() -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        seen.append(AsyncToSync.loop_thread_executors.get(loop))
        return loop

    loop = async_to_sync(inner)()
    assert isinstance(seen[0], CurrentThreadExecutor)
    assert loop not in AsyncToSync.loop_thread_executors


def test_astc_registers_its_executor() -> None:
    with AsyncSingleThreadContext() as context:
        assert context not in AsyncToSync.context_to_thread_executor

        async def noop() -> None:
            pass

        async_to_sync(noop)()
        assert context in AsyncToSync.context_to_thread_executor
    assert context not in AsyncToSync.context_to_thread_executor


def _five() -> int:
    return 5


def test_executor_submit_called_once_per_call() -> None:
    class CountingExecutor:
        def __init__(self) -> None:
            self.calls = 0
            self._inner = ThreadPoolExecutor(1)

        def submit(self, fn: Any, *args: Any) -> Future[Any]:
            self.calls += 1
            return self._inner.submit(fn, *args)

    executor = CountingExecutor()

    async def main() -> int:
        # Duck-typed: any object with submit() is accepted at run time.
        duck: Any = executor
        return await sync_to_async(_five, thread_sensitive=False, executor=duck)()

    assert asyncio.run(main()) == 5
    assert executor.calls == 1
    executor._inner.shutdown()  # pyright: ignore[reportPrivateUsage]

"""Context variables, Local values, exceptions and sys.exc_info across both bridges."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import sys
import traceback
from typing import Any

import pytest
from asgiref.local import Local
from asgiref.sync import AsyncSingleThreadContext, async_to_sync, sync_to_async

var: contextvars.ContextVar[Any] = contextvars.ContextVar("test_sync_context_var")
other: contextvars.ContextVar[Any] = contextvars.ContextVar("test_sync_context_other")


class AlwaysEqual:
    """Equal to everything: copying back must not be fooled by ``==``."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


@pytest.mark.anyio
@pytest.mark.parametrize("thread_sensitive", [True, False])
async def test_sync_to_async_sees_and_returns_context_changes(thread_sensitive: bool) -> None:
    var.set("caller")

    def change() -> Any:
        seen = var.get()
        var.set("worker")
        other.set("new in worker")
        return seen

    assert await sync_to_async(change, thread_sensitive=thread_sensitive)() == "caller"
    assert var.get() == "worker"
    assert other.get() == "new in worker"


@pytest.mark.anyio
async def test_copy_back_uses_identity_not_equality() -> None:
    first, second = AlwaysEqual(), AlwaysEqual()
    var.set(first)

    def swap() -> None:
        var.set(second)

    await sync_to_async(swap)()
    assert var.get() is second


@pytest.mark.anyio
async def test_copy_back_after_exception() -> None:
    var.set("before")
    boom = ValueError("boom")

    def fail() -> None:
        var.set("set before failing")
        raise boom

    with pytest.raises(ValueError, match="boom") as info:
        await sync_to_async(fail)()
    assert info.value is boom
    assert var.get() == "set before failing"


@pytest.mark.anyio
async def test_explicit_context_receives_changes_and_caller_does_not() -> None:
    var.set("caller")
    ctx = contextvars.Context()
    ctx.run(var.set, "in ctx")

    def change() -> Any:
        seen = var.get()
        var.set("changed in ctx")
        return seen

    assert await sync_to_async(change, context=ctx)() == "in ctx"
    assert var.get() == "caller"
    assert ctx[var] == "changed in ctx"
    # Another wrapper sharing the same context sees the change.
    assert await sync_to_async(var.get, context=ctx)() == "changed in ctx"


def test_async_to_sync_context_flows_both_ways() -> None:
    def sync_part() -> tuple[Any, Any]:
        var.set("sync")

        async def coroutine() -> Any:
            seen = var.get()
            var.set("coroutine")
            return seen

        seen = async_to_sync(coroutine)()
        return seen, var.get()

    assert contextvars.copy_context().run(sync_part) == ("sync", "coroutine")


def test_async_to_sync_copy_back_after_exception() -> None:
    async def coroutine() -> None:
        var.set("set in failing coroutine")
        raise KeyError("k")

    def sync_part() -> Any:
        with pytest.raises(KeyError):
            async_to_sync(coroutine)()
        return var.get()

    assert contextvars.copy_context().run(sync_part) == "set in failing coroutine"


def test_astc_calls_see_each_others_changes() -> None:
    async def bump() -> int:
        value: int = var.get(0) + 1
        var.set(value)
        return value

    def sync_part() -> list[int]:
        with AsyncSingleThreadContext():
            return [async_to_sync(bump)() for _ in range(3)]

    assert contextvars.copy_context().run(sync_part) == [1, 2, 3]


def test_deep_chain_carries_values_down_and_up() -> None:
    def bottom() -> Any:
        seen = var.get()
        var.set("bottom")
        return seen

    async def level3() -> Any:
        return await sync_to_async(bottom)()

    def level2() -> Any:
        return async_to_sync(level3)()

    async def level1() -> Any:
        return await sync_to_async(level2)()

    def top() -> tuple[Any, Any]:
        var.set("top")
        return async_to_sync(level1)(), var.get()

    assert contextvars.copy_context().run(top) == ("top", "bottom")


def test_task_created_inside_bridge_keeps_its_changes() -> None:
    def set_in_task() -> None:
        var.set("task only")

    async def coroutine() -> None:
        await asyncio.create_task(sync_to_async(set_in_task)())

    def top() -> Any:
        var.set("top")
        async_to_sync(coroutine)()
        return var.get()

    assert contextvars.copy_context().run(top) == "top"


def test_local_values_ride_along_and_come_back() -> None:
    local = Local()

    def bottom() -> Any:
        seen = local.value
        local.value = "from worker"
        return seen

    async def middle() -> Any:
        seen = local.value
        result = await sync_to_async(bottom)()
        return seen, result, local.value

    def top() -> tuple[Any, Any]:
        local.value = "top"
        return async_to_sync(middle)(), local.value

    (seen_in_coroutine, seen_in_worker, after_worker), after = contextvars.copy_context().run(top)
    assert seen_in_coroutine == "top"
    assert seen_in_worker == "top"
    assert after_worker == "from worker"
    assert after == "from worker"


@pytest.mark.anyio
async def test_handled_exception_is_current_inside_the_function() -> None:
    seen: list[Any] = []

    def look() -> None:
        seen.append(sys.exc_info()[1])
        raise RuntimeError("inner")

    original = ValueError("outer")
    try:
        raise original
    except ValueError:
        with pytest.raises(RuntimeError) as info:
            await sync_to_async(look)()
    assert seen == [original]
    assert info.value.__context__ is original


def test_handled_exception_is_current_inside_the_coroutine() -> None:
    seen: list[Any] = []

    async def look() -> str:
        seen.append(sys.exc_info()[1])
        return "fine"

    original = ValueError("outer")
    try:
        raise original
    except ValueError:
        # Calling from an except block does not re-raise anything by itself.
        assert async_to_sync(look)() == "fine"
    assert seen == [original]


@pytest.mark.parametrize("exception", [KeyboardInterrupt("k"), SystemExit(3), ValueError("v")])
def test_base_exceptions_keep_identity_both_ways(exception: BaseException) -> None:
    def raise_it() -> None:
        raise exception

    async def coroutine() -> None:
        await sync_to_async(raise_it)()

    with pytest.raises(type(exception)) as info:
        async_to_sync(coroutine)()
    assert info.value is exception


@pytest.mark.parametrize(
    "exception",
    [
        ValueError("v"),
        KeyboardInterrupt("k"),
        # Published: asyncio turns it into a new asyncio.CancelledError with the same args.
        pytest.param(
            concurrent.futures.CancelledError("c"),
            marks=pytest.mark.ours_only("sync-concurrent-cancelled-error-kept"),
        ),
    ],
)
def test_non_thread_sensitive_calls_keep_identity_on_a_fresh_loop(
    exception: BaseException,
) -> None:
    # The first call on a loop finds no default executor yet, later ones do: both
    # hand back the very object raised (asyncio's own futures would copy a
    # concurrent CancelledError) and the value returned.
    def raise_it() -> None:
        raise exception

    async def twice() -> list[BaseException]:
        caught: list[BaseException] = []
        for _ in range(2):
            try:
                await sync_to_async(raise_it, thread_sensitive=False)()
            except BaseException as exc:  # collecting whatever was raised
                caught.append(exc)
        return caught

    async def value_first() -> list[int]:
        call = sync_to_async(lambda: 7, thread_sensitive=False)
        return [await call(), await call()]

    assert asyncio.run(twice()) == [exception, exception]
    assert all(caught is exception for caught in asyncio.run(twice()))
    assert asyncio.run(value_first()) == [7, 7]


def test_traceback_hide_marks_bridge_frames() -> None:
    def fail() -> None:
        raise ValueError("x")

    async def coroutine() -> None:
        await sync_to_async(fail)()

    with pytest.raises(ValueError, match="x") as info:
        async_to_sync(coroutine)()
    hidden = [
        frame.f_code.co_name
        for frame, _ in traceback.walk_tb(info.value.__traceback__)
        if frame.f_locals.get("__traceback_hide__")
    ]
    assert "__call__" in hidden
    assert "thread_handler" in hidden
    assert "main_wrap" in hidden

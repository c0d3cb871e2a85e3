"""Waits that can never finish raise RuntimeError naming the cycle; waits that might finish do not.

The cycle the bridge can prove: a thread-sensitive call whose thread (its lane) is
the very thread making it, busy running the sync function that started the event
loop the call is made on. The error keeps the published message; exception notes
name the lane, the call holding it, the loop and the call that would wait.

Every wait is bounded: the inner call of a nested loop is itself wrapped in
``asyncio.wait_for``, so a regression that stops detecting a cycle fails on a
TimeoutError and frees the lane, instead of hanging the thread for later tests.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)

BOUND = 10.0  # seconds any single wait may take
DEADLOCK = "Single thread executor already being used, would deadlock"
OWN_THREAD = "You cannot submit onto CurrentThreadExecutor from its own thread"

_T = TypeVar("_T")


@pytest.fixture
def anyio_backend() -> str:
    # The cycles are made of nested asyncio loops: asyncio only.
    return "asyncio"


def inner_query() -> str:
    return threading.current_thread().name


async def awaits_inner_query(**options: Any) -> str:
    # Bounded: without detection this wait would never end (see the module docstring).
    return await asyncio.wait_for(sync_to_async(inner_query, **options)(), BOUND)


def run_nested(coro: Coroutine[Any, Any, _T], *, fresh_context: bool) -> _T:
    """asyncio.run, as a sync function would call it; in a fresh context if asked."""
    if fresh_context:
        return contextvars.Context().run(asyncio.run, coro)
    return asyncio.run(coro)


def notes_of(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", ()))


def assert_names_cycle(error: BaseException, *, lane: str, holder: str, started_by: str) -> None:
    notes = notes_of(error)
    assert notes.startswith("cycle: ")
    assert f"lane '{lane}" in notes  # the lane, by thread name
    assert f"held by {holder}," in notes  # the call holding it, by qualname
    assert f"started by {started_by})" in notes  # the nested loop
    assert "inner_query, awaited on that loop, would wait for lane" in notes  # the waiter
    assert "way out:" in notes


# --------------------------------------------------------------------------- detected


@pytest.mark.anyio
@pytest.mark.ours_only("sync-deadlock-cycle-detected")
async def test_nested_loop_in_a_fresh_context_on_the_process_wide_thread() -> None:
    """A TS function runs ``asyncio.run`` in a fresh context (so the published
    deadlock flag is not seen) and the coroutine awaits a TS call: it is routed to the
    process-wide thread, which is the thread running the loop. Published: hangs."""

    def view() -> str:
        return run_nested(awaits_inner_query(), fresh_context=True)

    with pytest.raises(RuntimeError) as caught:
        await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert str(caught.value) == DEADLOCK
    assert_names_cycle(
        caught.value,
        lane="asgiref-sync-worker",
        holder=view.__qualname__,
        started_by="asyncio.runners.run",
    )


@pytest.mark.anyio
@pytest.mark.ours_only("sync-deadlock-cycle-detected")
async def test_run_until_complete_in_a_fresh_context_on_the_process_wide_thread() -> None:
    """The same with a loop the function made itself and ``run_until_complete``."""

    def view() -> str:
        loop = asyncio.new_event_loop()
        try:
            return contextvars.Context().run(loop.run_until_complete, awaits_inner_query())
        finally:
            loop.close()

    with pytest.raises(RuntimeError) as caught:
        await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert str(caught.value) == DEADLOCK
    assert_names_cycle(
        caught.value,
        lane="asgiref-sync-worker",
        holder=view.__qualname__,
        # A qualified name where the code object has one (Python 3.11+).
        started_by="asyncio.base_events."
        + ("BaseEventLoop." if sys.version_info >= (3, 11) else "")
        + "run_until_complete",
    )


@pytest.mark.anyio
@pytest.mark.ours_only("sync-deadlock-cycle-detected")
async def test_nested_loop_on_the_thread_of_a_thread_sensitive_context() -> None:
    """Inside a ThreadSensitiveContext (a request), the TS function runs ``asyncio.run``;
    the coroutine, still in the context, awaits a TS call routed to the context's thread,
    the thread running that loop. Published: hangs."""

    def view() -> str:
        return run_nested(awaits_inner_query(), fresh_context=False)

    async with ThreadSensitiveContext():
        with pytest.raises(RuntimeError) as caught:
            await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert str(caught.value) == DEADLOCK
    assert_names_cycle(
        caught.value,
        lane="asgiref-tsc-lane-",
        holder=view.__qualname__,
        started_by="asyncio.runners.run",
    )


@pytest.mark.anyio
@pytest.mark.ours_only("sync-deadlock-cycle-detected")
async def test_nested_loop_on_the_one_thread_of_a_context_executor() -> None:
    """The same with a ThreadSensitiveContext given a one-thread executor of the user's."""

    def view() -> str:
        return run_nested(awaits_inner_query(), fresh_context=False)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="user-lane") as executor:
        async with ThreadSensitiveContext(executor=executor):
            with pytest.raises(RuntimeError) as caught:
                await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert str(caught.value) == DEADLOCK
    assert_names_cycle(
        caught.value,
        lane="user-lane_0",
        holder=view.__qualname__,
        started_by="asyncio.runners.run",
    )


# ------------------------------------------- the published refusals, with the cycle named


def _nested_loop_under_async_to_sync() -> None:
    """A sync thread waits in async_to_sync; a TS call runs on it and starts a loop there,
    whose TS call goes to the bridge of that same thread."""

    def view() -> str:
        return run_nested(awaits_inner_query(), fresh_context=False)

    async def request() -> str:
        return await sync_to_async(view)()

    async_to_sync(request)()


def test_nested_loop_on_the_thread_waiting_in_async_to_sync_is_refused() -> None:
    """CurrentThreadExecutor refuses work submitted from its own thread (as published)."""
    with pytest.raises(RuntimeError) as caught:
        _nested_loop_under_async_to_sync()
    assert str(caught.value) == OWN_THREAD


@pytest.mark.ours_only("sync-deadlock-cycle-notes")
def test_refusal_on_the_thread_waiting_in_async_to_sync_names_the_cycle() -> None:
    with pytest.raises(RuntimeError) as caught:
        _nested_loop_under_async_to_sync()
    assert_names_cycle(
        caught.value,
        lane=threading.current_thread().name,
        holder="_nested_loop_under_async_to_sync.<locals>.view",
        started_by="asyncio.runners.run",
    )


async def _nested_loop_with_the_flag_copied() -> str:
    """Direct self-nesting the published deadlock flag catches: the nested loop's task
    copies the TS function's context, flag included."""

    def view() -> str:
        return run_nested(awaits_inner_query(), fresh_context=False)

    return await asyncio.wait_for(sync_to_async(view)(), BOUND)


@pytest.mark.anyio
async def test_direct_self_nesting_is_refused() -> None:
    with pytest.raises(RuntimeError) as caught:
        await _nested_loop_with_the_flag_copied()
    assert str(caught.value) == DEADLOCK


@pytest.mark.anyio
@pytest.mark.ours_only("sync-deadlock-cycle-notes")
async def test_direct_self_nesting_refusal_names_the_cycle() -> None:
    with pytest.raises(RuntimeError) as caught:
        await _nested_loop_with_the_flag_copied()
    assert_names_cycle(
        caught.value,
        lane="asgiref-sync-worker",
        holder="_nested_loop_with_the_flag_copied.<locals>.view",
        started_by="asyncio.runners.run",
    )


# --------------------------------------------------------------------------- not cycles


@pytest.mark.anyio
async def test_busy_lane_whose_holder_waits_for_something_else_does_not_raise() -> None:
    """The process-wide thread is busy with a call waiting on a threading.Event; another
    task's TS call queues behind it. The bridge cannot see what the holder waits for (it
    will be set), so this only waits; diagnostics would call it a slow lane."""
    gate = threading.Event()
    holding = threading.Event()
    lane: list[str] = []

    def holder() -> bool:
        lane.append(threading.current_thread().name)
        holding.set()
        return gate.wait(BOUND)

    held = asyncio.ensure_future(sync_to_async(holder)())
    assert await asyncio.to_thread(holding.wait, BOUND)
    queued = asyncio.ensure_future(sync_to_async(inner_query)())
    await asyncio.sleep(0)
    assert not queued.done()
    gate.set()
    assert await asyncio.wait_for(held, BOUND) is True
    assert await asyncio.wait_for(queued, BOUND) == lane[0]


@pytest.mark.anyio
async def test_nested_loop_making_a_call_off_the_lane_does_not_raise() -> None:
    """The way out: the nested loop's call needs no thread-sensitive thread."""

    loop_thread: list[str] = []

    def view() -> str:
        loop_thread.append(threading.current_thread().name)
        return run_nested(awaits_inner_query(thread_sensitive=False), fresh_context=True)

    ran_on = await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert ran_on != loop_thread[0]


@pytest.mark.anyio
async def test_nested_loop_with_a_context_of_its_own_does_not_raise() -> None:
    """A ThreadSensitiveContext entered in the nested loop gives its calls a lane of their
    own, which is not the thread running the loop."""

    async def in_own_context() -> str:
        async with ThreadSensitiveContext():
            return await awaits_inner_query()

    loop_thread: list[str] = []

    def view() -> str:
        loop_thread.append(threading.current_thread().name)
        return run_nested(in_own_context(), fresh_context=True)

    ran_on = await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert ran_on != loop_thread[0]


@pytest.mark.anyio
async def test_nested_loop_on_a_thread_that_is_not_the_lane_does_not_raise() -> None:
    """A loop run by a non-thread-sensitive function (a pool thread) may wait for the
    process-wide thread: that thread is free to take the call."""

    loop_thread: list[str] = []

    def job() -> str:
        loop_thread.append(threading.current_thread().name)
        return run_nested(awaits_inner_query(), fresh_context=True)

    ran_on = await asyncio.wait_for(sync_to_async(job, thread_sensitive=False)(), BOUND)
    assert ran_on != loop_thread[0]

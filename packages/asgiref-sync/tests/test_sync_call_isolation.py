"""Nothing one bridge call leaves behind in a thread or a loop reaches the next call.

The published asgiref runs every new-loop ``async_to_sync`` call with
``asyncio.run`` on a new thread, and gives every ``ThreadSensitiveContext`` a new
thread. Reusing threads must not be visible: these tests pass on asgiref 3.13.0
(one of them only most of the time there; see its comment).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.local import Local
from asgiref.sync import (
    AsyncSingleThreadContext,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)

LoopProbe = Callable[[asyncio.AbstractEventLoop], object]


def _on_loop(probe: LoopProbe) -> Any:
    """Run ``probe(loop)`` inside a new-loop async_to_sync call; return what it returns."""

    async def call() -> object:
        return probe(asyncio.get_running_loop())

    return async_to_sync(call)()


def _in_each_mode(test: Callable[[Callable[[LoopProbe], Any]], None]) -> None:
    """Run ``test`` with calls from a plain sync thread, then inside an AsyncSingleThreadContext."""
    test(_on_loop)
    with AsyncSingleThreadContext():
        test(_on_loop)


def test_timers_of_a_call_never_fire_after_it() -> None:
    def check(call: Callable[[LoopProbe], Any]) -> None:
        fired = threading.Event()
        first = call(lambda loop: (loop, loop.call_later(0.01, fired.set)))[0]
        assert first.is_closed()
        second = call(lambda loop: loop)
        assert second is not first
        # Bounded: the timer was due long before this wait ends.
        assert not fired.wait(0.3)

    _in_each_mode(check)


def test_loop_settings_do_not_reach_the_next_call() -> None:
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        pass

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        return asyncio.Task(coro, loop=loop, **kwargs)

    def change(loop: asyncio.AbstractEventLoop) -> None:
        loop.set_task_factory(factory)
        loop.set_exception_handler(handler)
        loop.set_debug(True)

    def read(loop: asyncio.AbstractEventLoop) -> tuple[object, object, bool]:
        return loop.get_task_factory(), loop.get_exception_handler(), loop.get_debug()

    def check(call: Callable[[LoopProbe], Any]) -> None:
        call(change)
        assert call(read) == (None, None, False)

    _in_each_mode(check)


def test_a_default_executor_set_in_a_call_is_shut_down_with_its_loop() -> None:
    def check(call: Callable[[LoopProbe], Any]) -> None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="user-default")
        call(lambda loop: loop.set_default_executor(executor))
        with pytest.raises(RuntimeError):
            executor.submit(int)

        async def default_executor_thread() -> str:
            return await asyncio.get_running_loop().run_in_executor(
                None, lambda: threading.current_thread().name
            )

        assert not async_to_sync(default_executor_thread)().startswith("user-default")

    _in_each_mode(check)


@pytest.mark.ours_only("sync-thread-critical-never-found-again")
def test_thread_critical_values_of_a_call_are_gone_in_the_next() -> None:
    # asgiref 3.13.0 fails this now and then: its per-thread storage is sometimes
    # found again by a later call's new thread. By design the values are gone.
    critical = Local(thread_critical=True)

    async def write() -> None:
        critical.value = "call one"

    async def read() -> object:
        return getattr(critical, "value", None)

    async_to_sync(write)()
    assert async_to_sync(read)() is None
    assert async_to_sync(read)() is None
    # Inside an AsyncSingleThreadContext every call runs in one thread, which
    # keeps its thread-critical values from one call to the next.
    with AsyncSingleThreadContext():
        async_to_sync(write)()
        assert async_to_sync(read)() == "call one"
    assert async_to_sync(read)() is None


def test_calls_in_a_single_thread_context_share_a_thread_not_a_loop() -> None:
    with AsyncSingleThreadContext():
        first = _on_loop(lambda loop: (loop, threading.current_thread()))
        second = _on_loop(lambda loop: (loop, threading.current_thread()))
    assert first[1] is second[1]
    assert first[0] is not second[0]
    assert first[0].is_closed()


@pytest.mark.anyio
async def test_thread_critical_values_stay_with_their_thread_sensitive_context() -> None:
    critical = Local(thread_critical=True)
    plain: list[object] = []

    def write() -> None:
        critical.value = "first context"

    def read() -> object:
        return getattr(critical, "value", None)

    async with ThreadSensitiveContext():
        await sync_to_async(write)()
        plain.append(await sync_to_async(read)())
    async with ThreadSensitiveContext():
        plain.append(await sync_to_async(read)())
    assert plain == ["first context", None]


@pytest.mark.ours_only("sync-loop-kept-when-pristine")
def test_a_loop_that_carries_nothing_is_kept_for_the_next_call() -> None:
    def loop_ref(loop: asyncio.AbstractEventLoop) -> weakref.ref[asyncio.AbstractEventLoop]:
        return weakref.ref(loop)

    first = _on_loop(loop_ref)
    second = _on_loop(loop_ref)
    # Our pooling, not the published asgiref's behaviour (it makes a loop per call);
    # the loop kept is indistinguishable from a new one, as the tests above show.
    kept = first()
    assert kept is not None
    assert kept is second()
    assert not kept.is_closed()
    del kept
    pending = _on_loop(lambda loop: (loop_ref(loop), loop.call_later(3600, int))[0])
    after = _on_loop(loop_ref)
    # Closed, and gone unless something still refers to it.
    closed = pending()
    assert closed is None or closed.is_closed()
    assert after() is not None
    assert closed is not after()


def test_no_loop_is_left_unclosed_at_exit() -> None:
    script = (
        "from asgiref.sync import async_to_sync\n"
        "async def answer() -> int:\n"
        "    return 42\n"
        "print(async_to_sync(answer)())\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == "42\n"
    assert result.stderr == ""

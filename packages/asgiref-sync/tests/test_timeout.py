"""asgiref.timeout.timeout: the deprecated deadline context manager (spec 30 §2).

Ordering relies on the event loop's own clock: a timer due at the deadline
always runs before a callback scheduled later on the same loop.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import warnings
from collections.abc import Awaitable, Callable

import pytest
from asgiref.timeout import timeout

DEPRECATED = "asgiref.timeout.timeout is deprecated. Use asyncio.timeout() instead."
LOOP_ARGUMENT = "The loop argument to timeout() is deprecated."

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    # The asyncio-only parts (current task, loop.call_at) are what is under test:
    # asgiref.timeout is asyncio's timeout, so these tests run on asyncio only.
    return "asyncio"


def make(delay: float | None, loop: asyncio.AbstractEventLoop | None = None) -> timeout:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return timeout(delay) if loop is None else timeout(delay, loop=loop)


def current_line() -> int:
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno


async def run_async(manager: timeout, body: Callable[[], Awaitable[None]]) -> None:
    async with manager:
        await body()


async def run_sync_form(manager: timeout, body: Callable[[], Awaitable[None]]) -> None:
    with manager as entered:
        assert entered is manager
        await body()


def remaining_of(manager: timeout) -> float | None:
    # A call, so that type checkers do not carry a narrowing across awaits.
    return manager.remaining


async def never() -> None:
    await asyncio.get_running_loop().create_future()


async def after_loop_time(delay: float) -> None:
    """Return once the loop clock has moved ``delay`` seconds past now."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_later(delay, done.set_result, None)
    await done


# --------------------------------------------------------------------------- warnings


async def test_deprecation_warning_points_at_the_caller() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = current_line() + 1
        timeout(1)
    assert [(str(w.message), w.category) for w in caught] == [(DEPRECATED, DeprecationWarning)]
    assert caught[0].filename == __file__
    assert caught[0].lineno == line


@pytest.mark.ours_only("timeout-warning-location")
async def test_loop_argument_warns_twice_both_at_the_caller() -> None:
    # Published 3.13.0 attributes the second warning to its own module; pointing
    # it at the caller, like the first one, is the deliberate difference here.
    loop = asyncio.get_running_loop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = current_line() + 1
        manager = timeout(1, loop=loop)
    assert [(str(w.message), w.category) for w in caught] == [
        (DEPRECATED, DeprecationWarning),
        (LOOP_ARGUMENT, DeprecationWarning),
    ]
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line), (__file__, line)]
    async with manager:
        pass


def test_outside_a_running_loop_warns_then_fails() -> None:
    with (
        pytest.warns(DeprecationWarning, match=r"^asgiref\.timeout\.timeout is deprecated"),
        pytest.raises(RuntimeError, match="no running event loop"),
    ):
        timeout(1)


# --------------------------------------------------------------------------- None


async def test_none_is_a_no_op() -> None:
    manager = make(None)
    async with manager as entered:
        assert entered is manager
        assert manager.remaining is None
        await asyncio.sleep(0)
    assert manager.expired is False
    assert manager.remaining is None
    with manager as entered_sync:
        assert entered_sync is manager


def test_none_needs_no_task() -> None:
    loop = asyncio.new_event_loop()
    try:
        manager = make(None, loop=loop)
        with manager:
            pass
        assert manager.expired is False
    finally:
        loop.close()


async def test_none_lets_exceptions_through() -> None:
    with pytest.raises(KeyError):
        async with make(None):
            raise KeyError("x")


# --------------------------------------------------------------------------- expiry


async def test_expiry_raises_timeout_error_chained_from_cancelled_error() -> None:
    manager = make(0.01)
    with pytest.raises(asyncio.TimeoutError) as info:
        async with manager:
            await never()
    error = info.value
    assert type(error) is (TimeoutError if sys.version_info >= (3, 11) else asyncio.TimeoutError)
    assert isinstance(error.__context__, asyncio.CancelledError)
    assert error.__cause__ is None
    assert error.__suppress_context__ is False
    assert manager.expired is True
    assert manager.remaining == 0.0


async def test_sync_with_form_inside_a_task() -> None:
    manager = make(0.01)
    with pytest.raises(asyncio.TimeoutError):
        await run_sync_form(manager, never)
    assert manager.expired is True


async def test_remaining_counts_down_on_the_loop_clock() -> None:
    loop = asyncio.get_running_loop()
    manager = make(30)
    assert remaining_of(manager) is None
    before = loop.time()
    async with manager:
        first = remaining_of(manager)
        assert first is not None
        assert 0 < first <= 30
        await after_loop_time(0.01)
        second = remaining_of(manager)
        assert second is not None
        assert second <= first - 0.01 + 1e-6
        assert second >= 30 - (loop.time() - before) - 1e-6
    assert manager.expired is False
    left = manager.remaining
    assert left is not None
    assert left > 0


async def test_finishing_in_time_cancels_the_timer() -> None:
    manager = make(0.01)
    async with manager:
        await asyncio.sleep(0)
    # Had the timer survived, it would fire (and cancel this task) before this.
    await after_loop_time(0.05)
    assert manager.expired is False


@pytest.mark.parametrize("delay", [0, -1, -0.5])
async def test_non_positive_cancels_at_the_next_iteration(delay: float) -> None:
    manager = make(delay)
    reached_after_await = False

    async def body() -> None:
        nonlocal reached_after_await
        assert manager.remaining is None
        await asyncio.sleep(0)
        reached_after_await = True

    with pytest.raises(asyncio.TimeoutError):
        await run_async(manager, body)
    assert not reached_after_await
    assert manager.expired is True
    assert manager.remaining is None


@pytest.mark.parametrize("delay", [0, -1])
async def test_non_positive_without_an_await_does_nothing(delay: float) -> None:
    manager = make(delay)
    async with manager:
        pass
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert manager.expired is False


# --------------------------------------------------------------------------- task requirement


def test_requires_a_task() -> None:
    loop = asyncio.new_event_loop()
    try:
        manager = make(1, loop=loop)
        with pytest.raises(RuntimeError) as info:
            manager.__enter__()
        assert str(info.value) == "Timeout context manager should be used inside a task"
    finally:
        loop.close()


async def test_requires_a_task_even_inside_a_running_loop() -> None:
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[BaseException | None] = loop.create_future()

    def callback() -> None:
        manager = make(1)
        try:
            manager.__enter__()
        except RuntimeError as error:
            outcome.set_result(error)
        else:
            outcome.set_result(None)

    loop.call_soon(callback)
    error = await outcome
    assert isinstance(error, RuntimeError)
    assert str(error) == "Timeout context manager should be used inside a task"


async def test_a_different_loop_has_no_current_task() -> None:
    other = asyncio.new_event_loop()
    try:
        manager = make(1, loop=other)
        with pytest.raises(RuntimeError, match="should be used inside a task"):
            async with manager:
                pass
    finally:
        other.close()


# --------------------------------------------------------------------------- outcomes


async def test_exceptions_are_not_suppressed() -> None:
    manager = make(30)
    with pytest.raises(ValueError, match="boom"):
        async with manager:
            raise ValueError("boom")
    assert manager.expired is False


async def test_other_exception_after_expiry_passes_through() -> None:
    manager = make(0.01)

    async def body() -> None:
        try:
            await never()
        except asyncio.CancelledError:
            raise ValueError("instead") from None

    with pytest.raises(ValueError, match="instead"):
        await run_async(manager, body)
    assert manager.expired is True


async def test_swallowed_cancellation_raises_nothing() -> None:
    manager = make(0.01)
    swallowed = False
    async with manager:
        try:
            await never()
        except asyncio.CancelledError:
            swallowed = True
    assert swallowed
    assert manager.expired is True


async def test_cancelled_error_subclass_is_not_converted() -> None:
    class Custom(asyncio.CancelledError):
        pass

    manager = make(0.01)

    async def body() -> None:
        try:
            await never()
        except asyncio.CancelledError:
            raise Custom from None

    with pytest.raises(Custom):
        await run_async(manager, body)
    assert manager.expired is True


async def test_external_cancellation_is_not_a_timeout() -> None:
    started = asyncio.Event()
    manager = make(30)

    async def victim() -> None:
        async with manager:
            started.set()
            await never()

    task = asyncio.create_task(victim())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert manager.expired is False


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling() is new in 3.11")
async def test_cancel_request_is_not_withdrawn() -> None:
    async def body() -> int:
        with pytest.raises(asyncio.TimeoutError):
            async with make(0.01):
                await never()
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()  # type: ignore[attr-defined,no-any-return,unused-ignore]  # 3.11+

    assert await asyncio.create_task(body()) == 1


async def test_sequential_use_in_one_task() -> None:
    for _ in range(3):
        with pytest.raises(asyncio.TimeoutError):
            async with make(0.001):
                await never()
        async with make(30):
            await asyncio.sleep(0)

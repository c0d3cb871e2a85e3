"""Deadlock shapes from asgiref's issue tracker: each completes or raises within seconds.

Every scenario is written anew from the shape a report describes (who calls whom,
on which thread, in what order), not from its code. Every wait is bounded: the
outermost call runs in a driver thread joined with a timeout, loops wait with
``asyncio.wait_for``, sync waits with ``Event.wait(BOUND)``. A regression fails on a
bound instead of hanging the suite.

Waits the bridge can prove will never finish raise RuntimeError naming the cycle;
those are in test_deadlock_detection.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)

BOUND = 10.0  # seconds any single wait may take before the shape counts as hung

_T = TypeVar("_T")


@pytest.fixture
def anyio_backend() -> str:
    # These shapes are made of asyncio tasks, callbacks and loops: asyncio only.
    return "asyncio"


def _thread_name() -> str:
    return threading.current_thread().name


async def _inner() -> str:
    return threading.current_thread().name


def _bounded(call: Callable[[], _T]) -> _T:
    """Run ``call`` in a thread of its own (a thread with no loop, like a sync test or a
    WSGI worker) and wait at most BOUND: a hang fails here, not in CI's global timeout."""
    results: list[_T] = []
    errors: list[BaseException] = []

    def drive() -> None:
        try:
            results.append(call())
        except BaseException as exc:  # handed to the test thread as is
            errors.append(exc)

    driver = threading.Thread(target=drive, name="shape-driver", daemon=True)
    driver.start()
    driver.join(BOUND)
    assert not driver.is_alive(), "hung: the call did not finish within the bound"
    if errors:
        raise errors[0]
    return results[0]


# --------------------------------------------------------------------------- #525, #526


@pytest.mark.ours_only("sync-stopped-parent-loop")
def test_525_fire_and_forget_sync_call_outliving_run_until_complete() -> None:
    """A TS function outlives the loop.run_until_complete that started it, then calls
    async_to_sync. The published asgiref schedules onto the stopped (not closed) loop and
    waits forever; here the call runs on a loop of its own."""
    release = threading.Event()
    finished = threading.Event()
    outcome: list[object] = []

    def background() -> None:
        release.wait(BOUND)
        try:
            outcome.append(async_to_sync(_inner)())
        except BaseException as exc:
            outcome.append(exc)
        finished.set()

    abandoned: list[asyncio.Future[None]] = []

    async def start_and_leave() -> None:
        # Fire and forget: nobody awaits the task; run_until_complete returns without it.
        abandoned.append(asyncio.ensure_future(sync_to_async(background)()))
        await asyncio.sleep(0)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(start_and_leave())
        release.set()  # the loop is stopped, not closed
        assert finished.wait(BOUND), "async_to_sync hung on a stopped parent loop"
        assert len(outcome) == 1
        assert isinstance(outcome[0], str)
        assert outcome[0].startswith("asgiref-loop")  # a loop of its own
        # The abandoned task still completes if the loop ever runs again.
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        leftovers = asyncio.all_tasks(loop)
        for task in leftovers:
            task.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.close()


@pytest.mark.anyio
@pytest.mark.ours_only("sync-orphan-thread-sensitive-call")
async def test_526_background_task_outliving_its_request_bridge() -> None:
    """A task created inside a request's async_to_sync outlives it and then makes a TS
    call. The published asgiref raises RuntimeError("CurrentThreadExecutor already quit or
    is broken"); here it runs, on a thread of its own."""
    go = asyncio.Event()
    tasks: list[asyncio.Task[str]] = []
    view_thread: list[str] = []

    def orm_call() -> str:
        return threading.current_thread().name

    async def background() -> str:
        await go.wait()
        return await sync_to_async(orm_call)()

    async def handler() -> None:
        tasks.append(asyncio.get_running_loop().create_task(background()))

    def view() -> None:
        view_thread.append(threading.current_thread().name)
        async_to_sync(handler)()

    await sync_to_async(view)()
    go.set()
    ran_on = await asyncio.wait_for(tasks[0], BOUND)
    assert ran_on.startswith("asgiref-tsc-lane")
    assert ran_on != view_thread[0]


# --------------------------------------------------------------------------- #491, #492


def test_492_task_started_in_nested_bridge_call_finishes_after_it() -> None:
    """async_to_sync -> sync_to_async -> async_to_sync -> create_task(sync_to_async):
    the innermost coroutine starts a TS call as a task and returns without awaiting it.
    Its bridge call ends first; the task's call must still run (on the outer bridge's
    thread, still waiting) and the outer coroutine, waiting for it, must finish."""
    ran_on: list[str] = []

    async def outer() -> str:
        finished = asyncio.Event()

        def record(task: asyncio.Future[str]) -> None:
            ran_on.append(task.result())
            finished.set()

        async def innermost() -> None:
            task = asyncio.ensure_future(sync_to_async(_thread_name)())
            task.add_done_callback(record)

        def middle() -> None:
            async_to_sync(innermost)()

        await sync_to_async(middle)()
        await asyncio.wait_for(finished.wait(), BOUND)
        return "done"

    assert _bounded(async_to_sync(outer)) == "done"
    assert ran_on == ["shape-driver"]  # the outermost sync caller, as thread-sensitive


def test_491_callback_scheduled_in_nested_bridge_call_runs_after_it() -> None:
    """Like #492, but the innermost coroutine schedules a loop callback that starts the TS
    call later (``loop.call_later`` in the report), after that bridge call has ended. The
    callback runs in the context captured when it was scheduled, whose bridge has quit."""
    ran_on: list[str] = []

    async def outer() -> str:
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()
        # Fired by the test once middle() has returned: a deterministic call_later.
        trigger: asyncio.Future[None] = loop.create_future()

        def record(task: asyncio.Future[str]) -> None:
            ran_on.append(task.result())
            finished.set()

        def later(_trigger: object) -> None:
            task = asyncio.ensure_future(sync_to_async(_thread_name)())
            task.add_done_callback(record)

        async def innermost() -> None:
            # The callback's context is captured here, inside the nested bridge call.
            trigger.add_done_callback(later)

        def middle() -> None:
            async_to_sync(innermost)()

        await sync_to_async(middle)()
        trigger.set_result(None)  # the nested call has ended
        await asyncio.wait_for(finished.wait(), BOUND)
        return "done"

    assert _bounded(async_to_sync(outer)) == "done"
    assert ran_on == ["shape-driver"]


# --------------------------------------------------------------------------- #482


def test_482_concurrent_thread_sensitive_calls_share_one_thread() -> None:
    """Many tasks (an HTTP client's fetches) each make TS calls (the ORM) at once, inside
    async_to_sync: every call runs on one thread, the waiting sync caller's, and all end."""

    async def fetch_and_store() -> str:
        await asyncio.sleep(0)
        return await sync_to_async(_thread_name)()

    async def pull() -> set[str]:
        names = await asyncio.wait_for(
            asyncio.gather(*(fetch_and_store() for _ in range(50))), BOUND
        )
        return set(names)

    assert _bounded(async_to_sync(pull)) == {"shape-driver"}


@pytest.mark.anyio
async def test_482_concurrent_calls_in_a_context_share_its_thread() -> None:
    """The same, as a request would: concurrent TS calls inside one ThreadSensitiveContext
    all run on its one thread."""

    async def fetch_and_store() -> str:
        await asyncio.sleep(0)
        return await sync_to_async(_thread_name)()

    async with ThreadSensitiveContext():
        names = await asyncio.wait_for(
            asyncio.gather(*(fetch_and_store() for _ in range(50))), BOUND
        )
    assert len(set(names)) == 1
    assert names[0] != threading.current_thread().name


# --------------------------------------------------------------------------- #348, #249


@pytest.mark.anyio
async def test_348_task_wrapped_call_under_sync_middleware() -> None:
    """Sync middleware (TS, in the request's ThreadSensitiveContext) -> async_to_sync ->
    async view -> a TS call wrapped in a task (``asyncio.wait_for``, ``create_task``):
    it runs on the middleware's thread, which waits in async_to_sync, and completes."""
    seen: dict[str, str] = {}

    async def async_view() -> None:
        seen["wait_for"] = await asyncio.wait_for(sync_to_async(_thread_name)(), BOUND)
        seen["task"] = await asyncio.wait_for(
            asyncio.ensure_future(sync_to_async(_thread_name)()), BOUND
        )

    def sync_middleware() -> None:
        seen["middleware"] = threading.current_thread().name
        async_to_sync(async_view)()

    async with ThreadSensitiveContext():
        await asyncio.wait_for(sync_to_async(sync_middleware)(), BOUND)
    assert seen["wait_for"] == seen["task"] == seen["middleware"]


@pytest.mark.anyio
async def test_249_second_call_from_a_task_inside_async_to_sync() -> None:
    """sync_to_async(view) -> async_to_sync -> a task (create_task, gather) -> TS call,
    with no ThreadSensitiveContext: the task's call runs on the view's thread."""
    seen: dict[str, str] = {}

    async def io_task(key: str) -> None:
        seen[key] = await sync_to_async(_thread_name)()

    async def do_io_tasks() -> None:
        await asyncio.wait_for(asyncio.ensure_future(io_task("create_task")), BOUND)
        await asyncio.wait_for(asyncio.gather(io_task("gather")), BOUND)

    def view() -> None:
        seen["view"] = threading.current_thread().name
        async_to_sync(do_io_tasks)()

    await asyncio.wait_for(sync_to_async(view)(), BOUND)
    assert seen["create_task"] == seen["gather"] == seen["view"]


# --------------------------------------------------------------------------- #545


def test_545_async_to_sync_again_from_a_thread_that_ran_a_sync_call() -> None:
    """One plain thread (a sync test) makes an async_to_sync call whose coroutine awaits a
    TS call (which runs in that very thread), then, later, a second async_to_sync call. The
    second must not be sent to the first call's loop, which is no longer running."""

    async def wrapper() -> str:
        return await sync_to_async(_thread_name)()

    def both() -> tuple[str, str]:
        first = async_to_sync(wrapper)()
        second = async_to_sync(_inner)()
        return first, second

    first, second = _bounded(both)
    assert first == "shape-driver"
    assert second != "shape-driver"  # the coroutine ran on a loop thread


# --------------------------------------------------------------------------- #535, #458


class _SignallingContext(ThreadSensitiveContext):
    """A ThreadSensitiveContext that says when its exit has begun."""

    def __init__(self, exiting: threading.Event) -> None:
        super().__init__()
        self._exiting = exiting

    async def __aexit__(self, *exc_info: Any) -> None:
        self._exiting.set()
        await super().__aexit__(*exc_info)


@pytest.mark.anyio
async def test_535_context_exit_while_its_thread_calls_back_into_the_loop() -> None:
    """A request's ThreadSensitiveContext exits (the request was cancelled) while a sync
    function on its thread is still running, and that function then calls async_to_sync
    back into the same loop. The exit must wait for the thread without blocking the loop."""
    started = threading.Event()
    exiting = threading.Event()
    results: list[str] = []

    async def view() -> str:
        return "view ran"

    def middleware() -> None:
        started.set()
        # Held until the context has begun to exit: the race the report describes.
        assert exiting.wait(BOUND)
        results.append(async_to_sync(view)())

    async def request() -> None:
        async with _SignallingContext(exiting):
            await sync_to_async(middleware)()

    task = asyncio.ensure_future(request())
    assert await asyncio.to_thread(started.wait, BOUND)
    task.cancel()  # the client went away; the sync function cannot be interrupted
    done, _ = await asyncio.wait([task], timeout=BOUND)
    assert done, "ThreadSensitiveContext exit hung the loop"
    assert task.cancelled()
    assert results == ["view ran"]


@pytest.mark.anyio
async def test_458_request_cancelled_while_sync_middleware_waits_in_async_to_sync() -> None:
    """The request is cancelled while its sync middleware (TS, in the request's context)
    waits in async_to_sync for the async view on the loop. The view is cancelled, the
    middleware returns, the context exits and the lane is handed back; nothing hangs."""
    view_waiting = asyncio.Event()
    never = asyncio.Event()
    middleware_saw: list[str] = []

    async def view() -> None:
        view_waiting.set()
        await never.wait()

    def middleware() -> None:
        try:
            async_to_sync(view)()
        except BaseException as exc:
            middleware_saw.append(type(exc).__name__)
            raise

    async def request() -> None:
        async with ThreadSensitiveContext():
            await sync_to_async(middleware)()

    task = asyncio.ensure_future(request())
    await asyncio.wait_for(view_waiting.wait(), BOUND)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=BOUND)
    assert done, "the cancelled request hung"
    assert task.cancelled()
    assert middleware_saw == ["CancelledError"]
    # The loop and the thread-sensitive machinery still work afterwards.
    async with ThreadSensitiveContext():
        assert await asyncio.wait_for(sync_to_async(_thread_name)(), BOUND)


# --------------------------------------------------------------------------- #495


@pytest.mark.anyio
@pytest.mark.ours_only("sync-failed-submit-clears-deadlock-flag")
async def test_495_failed_submit_does_not_leave_a_false_deadlock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Submitting a TS call fails (the process-wide executor was shut down: "cannot
    schedule new futures after shutdown"). That error is what the caller gets, and a later
    TS call in the same task works once the executor is usable again. The published
    asgiref leaves its deadlock flag set, so every later call in that context raises
    "Single thread executor already being used, would deadlock" instead."""
    shut_down = ThreadPoolExecutor(max_workers=1)
    shut_down.shutdown()
    with monkeypatch.context() as patched:
        patched.setattr(SyncToAsync, "single_thread_executor", shut_down)
        with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
            await sync_to_async(_thread_name)()
    # Same task, same context, a working executor again.
    assert await asyncio.wait_for(sync_to_async(_thread_name)(), BOUND)


# --------------------------------------------------------------------------- PR #282


@pytest.mark.anyio
async def test_pr282_thread_sensitive_wait_holds_the_lane_its_setter_needs() -> None:
    """A TS ``event.wait()`` takes the one thread-sensitive thread before a task's TS
    ``event.set()`` gets it: a user-level deadlock. The bridge cannot see that the waiter
    waits for the setter (a threading.Event links them), so it cannot raise; it can only
    report the slow lane in diagnostics mode. As written, the waiter does not finish; once
    someone else sets the event, both finish and nothing is left stuck."""
    event = threading.Event()
    waiting = threading.Event()

    def wait_for_the_event() -> bool:
        waiting.set()
        return event.wait()

    async def setter() -> None:
        # Made once the waiter holds the lane: the order the report describes.
        assert await asyncio.to_thread(waiting.wait, BOUND)
        await sync_to_async(event.set)()

    set_task = asyncio.ensure_future(setter())
    with pytest.raises(asyncio.TimeoutError):
        # Bounded; the waiter cannot finish however long this waits.
        await asyncio.wait_for(sync_to_async(wait_for_the_event)(), 0.5)
    assert not set_task.done()  # its event.set() is still queued behind the waiter
    event.set()  # the way out from outside the cycle
    await asyncio.wait_for(set_task, BOUND)


@pytest.mark.anyio
async def test_pr282_way_out_wait_off_the_lane() -> None:
    """The documented way out: the blocking wait does not need the thread-sensitive
    thread, so it runs with thread_sensitive=False and the setter gets the lane."""
    event = threading.Event()

    async def setter() -> None:
        await sync_to_async(event.set)()

    set_task = asyncio.ensure_future(setter())
    assert await asyncio.wait_for(sync_to_async(event.wait, thread_sensitive=False)(BOUND), BOUND)
    await asyncio.wait_for(set_task, BOUND)


@pytest.mark.anyio
async def test_pr282_way_out_one_context_each() -> None:
    """The other way out: waiter and setter each in a ThreadSensitiveContext of its own
    (as two requests are), so each has a thread."""
    event = threading.Event()

    async def setter() -> None:
        async with ThreadSensitiveContext():
            await sync_to_async(event.set)()

    async def waiter() -> bool:
        async with ThreadSensitiveContext():
            return await sync_to_async(event.wait)(BOUND)

    _, waited = await asyncio.wait_for(asyncio.gather(setter(), waiter()), BOUND)
    assert waited is True

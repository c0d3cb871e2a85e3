"""Deadlock shapes from asgiref's issue tracker: each completes or raises within seconds.

Every wait here is bounded; a regression fails on a timeout instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async

pytestmark = pytest.mark.timeout(30)

BOUND = 10.0  # seconds any single wait may take before the shape counts as hung


async def _inner() -> str:
    return threading.current_thread().name


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


# A free-floating task (loop.create_task) outliving its bridge: asyncio's shape;
# trio has no task outside a nursery.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
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

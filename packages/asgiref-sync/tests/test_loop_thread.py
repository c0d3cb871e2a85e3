"""asgiref.sync.LoopThread: one event loop in a thread of its own, shared by sync callers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from asgiref.sync import LoopThread, async_to_sync, sync_to_async

WAIT = 10.0
flavour: contextvars.ContextVar[str] = contextvars.ContextVar("flavour", default="plain")


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    with LoopThread("test-loop-thread") as lt:
        yield lt


async def where() -> tuple[threading.Thread, asyncio.AbstractEventLoop]:
    return threading.current_thread(), asyncio.get_running_loop()


def test_nothing_starts_until_first_use() -> None:
    before = {t.name for t in threading.enumerate()}
    lt = LoopThread("lazy-loop-thread")
    assert "lazy-loop-thread" not in before
    assert "lazy-loop-thread" not in {t.name for t in threading.enumerate()}
    assert "not started" in repr(lt)
    lt.close()
    assert "closed" in repr(lt)


def test_run_returns_the_result_from_the_loop_thread(loop_thread: LoopThread) -> None:
    thread, loop = loop_thread.run(where(), timeout=WAIT)
    assert thread.name == "test-loop-thread"
    assert thread is not threading.current_thread()
    assert loop is loop_thread.loop
    assert loop_thread.name == "test-loop-thread"
    assert "running" in repr(loop_thread)


def test_one_loop_shared_by_many_threads(loop_thread: LoopThread) -> None:
    seen: list[asyncio.AbstractEventLoop] = []
    barrier = threading.Barrier(8, timeout=WAIT)

    def caller() -> None:
        barrier.wait()  # all first uses at once: one loop must come out of it
        seen.append(loop_thread.run(where(), timeout=WAIT)[1])

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(seen) == 8
    assert all(loop is seen[0] for loop in seen)


def test_exceptions_propagate(loop_thread: LoopThread) -> None:
    async def fail() -> None:
        raise KeyError("from the loop")

    with pytest.raises(KeyError, match="from the loop"):
        loop_thread.run(fail(), timeout=WAIT)


def test_timeout_cancels_the_task(loop_thread: LoopThread) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match="was cancelled"):
        loop_thread.run(forever(), timeout=0.05)
    assert cancelled.wait(WAIT)


def test_cancelled_from_inside_raises_cancelled_error(loop_thread: LoopThread) -> None:
    async def cancel_myself() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    with pytest.raises(concurrent.futures.CancelledError):
        loop_thread.run(cancel_myself(), timeout=WAIT)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_caller_interrupted_cancels_the_task(loop_thread: LoopThread) -> None:
    started = threading.Event()
    cancelled = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = threading.get_ident()

    def press_ctrl_c_once_started() -> None:
        if started.wait(WAIT):
            # A real SIGINT to the waiting thread, as Ctrl-C would deliver it.
            signal.pthread_kill(waiting, signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c_once_started)
    presser.start()
    with pytest.raises(KeyboardInterrupt):
        loop_thread.run(forever(), timeout=WAIT)
    presser.join(WAIT)
    assert cancelled.wait(WAIT)


def test_cancelling_a_submitted_future_cancels_the_task(loop_thread: LoopThread) -> None:
    started = threading.Event()
    cancelled = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = loop_thread.submit(forever())
    assert started.wait(WAIT)
    assert future.cancel()
    assert cancelled.wait(WAIT)


def test_submit_schedules_without_waiting(loop_thread: LoopThread) -> None:
    gate = threading.Event()

    async def after_gate() -> str:
        await asyncio.get_running_loop().run_in_executor(None, gate.wait, WAIT)
        return "done"

    future = loop_thread.submit(after_gate())
    assert not future.done()
    gate.set()
    assert future.result(WAIT) == "done"


def test_call_soon_runs_a_callback_in_the_loop_thread(loop_thread: LoopThread) -> None:
    ran = concurrent.futures.Future[str]()

    def record(prefix: str) -> None:
        ran.set_result(prefix + threading.current_thread().name)

    loop_thread.call_soon(record, "in ")
    assert ran.result(WAIT) == "in test-loop-thread"


def test_context_defaults_to_a_copy_of_the_callers(loop_thread: LoopThread) -> None:
    async def read_and_change() -> str:
        value = flavour.get()
        flavour.set("changed inside")
        return value

    token = flavour.set("caller's")
    try:
        assert loop_thread.run(read_and_change(), timeout=WAIT) == "caller's"
        assert flavour.get() == "caller's"  # a copy: changes do not flow back
        assert loop_thread.run(read_and_change(), context=contextvars.Context()) == "plain"
    finally:
        flavour.reset(token)


def test_run_from_the_loop_thread_is_refused(loop_thread: LoopThread) -> None:
    async def nested() -> str:
        inner = where()
        try:
            loop_thread.run(inner)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert "own thread" in loop_thread.run(nested(), timeout=WAIT)
    assert loop_thread.in_loop_thread() is False


def test_bad_arguments_get_clear_errors(loop_thread: LoopThread) -> None:
    with pytest.raises(TypeError, match="non-empty str"):
        LoopThread("")
    with pytest.raises(TypeError, match="non-empty str"):
        LoopThread(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="coroutine object"):
        loop_thread.run(where)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="coroutine object"):
        loop_thread.submit(42)  # type: ignore[arg-type]
    coroutine = where()
    with pytest.raises(ValueError, match="timeout"):
        loop_thread.run(coroutine, timeout=-1)
    # Closed, so no "never awaited" warning (an error under filterwarnings=error).
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED


def test_close_ends_the_thread_and_cleans_up_like_asyncio_run() -> None:
    lt = LoopThread("closing-loop-thread")
    leftover_cancelled = threading.Event()

    async def leftover() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            leftover_cancelled.set()
            raise

    thread, loop = lt.run(where(), timeout=WAIT)
    lt.submit(leftover())
    lt.close(timeout=WAIT)
    assert not thread.is_alive()
    assert leftover_cancelled.is_set()
    assert loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        lt.run(where())
    lt.close()  # again: nothing to do


def test_bridge_calls_inside_go_back_to_the_loop(loop_thread: LoopThread) -> None:
    async def on_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def sync_part() -> asyncio.AbstractEventLoop:
        return async_to_sync(on_loop)()

    async def main() -> asyncio.AbstractEventLoop:
        return await sync_to_async(sync_part)()

    assert loop_thread.run(main(), timeout=WAIT) is loop_thread.loop


FORK_SCRIPT = """
import asyncio, os, signal, sys, threading
from asgiref.sync import LoopThread

lt = LoopThread("forked-loop-thread")

async def where():
    return threading.get_ident(), id(asyncio.get_running_loop())

parent = lt.run(where(), timeout=10)
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hang fails instead of stalling the test
    try:
        child = lt.run(where(), timeout=10)
        # The parent's loop object stays referenced in the child, so ids cannot collide.
        assert child[1] != parent[1], "the child runs on the parent's loop"
        assert lt.loop.is_running()
        lt.close(timeout=10)
    except BaseException as exc:
        print("child failed:", repr(exc), flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert lt.run(where(), timeout=10) == parent, "the parent's loop changed"
lt.close(timeout=10)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_fresh_loop_thread() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", FORK_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

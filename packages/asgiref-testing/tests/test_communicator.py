"""ApplicationCommunicator as 50-testing.md describes it."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import sys
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from asgiref.testing import ApplicationCommunicator

pytestmark = pytest.mark.anyio

Receive = Any
Send = Any

# The exception receive_output raises on timeout: the builtin from 3.11 on, where
# asyncio.TimeoutError is an alias of it; asyncio's own class on 3.10.
EXPECTED_TIMEOUT = TimeoutError if sys.version_info >= (3, 11) else asyncio.TimeoutError

SCOPE: dict[str, Any] = {"type": "custom"}


def attribute(communicator: ApplicationCommunicator, name: str) -> Any:
    """Read one of the underscore attributes the spec lists as compatibility surface."""
    return getattr(communicator, name)


async def echo(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        await send({"type": "echo", "got": message})


def raises_on_first_message(error: BaseException) -> Any:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        raise error

    return app


async def ends_after_one_message(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    message = await receive()
    await send({"type": "reply", "got": message})


async def silent(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await anyio.sleep_forever()


async def until_done(future: Any) -> None:
    """Wait for the application's task to end (on either backend), taking nothing from it."""
    done = anyio.Event()

    def set_done(_: object) -> None:
        done.set()

    future.add_done_callback(set_done)
    with anyio.fail_after(30):
        await done.wait()


async def once_the_others_wait() -> None:
    """Return once every other task is blocked (started tasks are then waiting)."""
    with anyio.fail_after(30):
        await anyio.wait_all_tasks_blocked()


# --------------------------------------------------------------------------- construction


def test_construction_touches_no_event_loop() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    assert communicator.application is echo
    assert communicator.scope is SCOPE
    assert attribute(communicator, "_future") is None
    assert attribute(communicator, "_input_queue") is None
    assert attribute(communicator, "_output_queue") is None


def test_built_outside_a_loop_and_used_inside_asyncio_run() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)

    async def use() -> Any:
        await communicator.send_input({"type": "ping"})
        return await communicator.receive_output()

    assert asyncio.run(use()) == {"type": "echo", "got": {"type": "ping"}}


async def test_double_callable_application_is_adapted() -> None:
    seen: list[dict[str, Any]] = []

    class Legacy:
        def __init__(self, scope: dict[str, Any]) -> None:
            seen.append(scope)

        async def __call__(self, receive: Receive, send: Send) -> None:
            await send(await receive())

    communicator = ApplicationCommunicator(Legacy, SCOPE)
    assert inspect.iscoroutinefunction(communicator.application)
    await communicator.send_input({"type": "hello"})
    assert await communicator.receive_output() == {"type": "hello"}
    assert seen == [SCOPE]


async def test_subclass_setting_scope_before_init_keeps_it() -> None:
    class Communicator(ApplicationCommunicator):
        def __init__(self, application: Any) -> None:
            self.scope = {"type": "custom", "set": "by subclass"}
            super().__init__(application, self.scope)

    communicator = Communicator(echo)
    assert communicator.scope == {"type": "custom", "set": "by subclass"}


async def test_application_starts_lazily_on_first_use() -> None:
    started = anyio.Event()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started.set()
        await receive()

    communicator = ApplicationCommunicator(app, SCOPE)
    for _ in range(3):
        await anyio.lowlevel.checkpoint()
    assert not started.is_set()
    assert attribute(communicator, "_future") is None
    assert await communicator.receive_nothing(0)
    with anyio.fail_after(30):
        await started.wait()
    communicator.stop()


@pytest.mark.parametrize("first_use", ["send_input", "receive_output", "receive_nothing", "wait"])
async def test_each_method_starts_the_application(first_use: str) -> None:
    started = anyio.Event()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started.set()
        await send({"type": "started"})
        await receive()

    communicator = ApplicationCommunicator(app, SCOPE)
    if first_use == "send_input":
        await communicator.send_input({"type": "x"})
    elif first_use == "receive_output":
        assert await communicator.receive_output() == {"type": "started"}
    elif first_use == "receive_nothing":
        await communicator.receive_nothing(0)
    else:
        await communicator.wait(0.01)
    assert attribute(communicator, "_future") is not None
    if not communicator.future.done():
        with anyio.fail_after(30):
            await started.wait()
    assert started.is_set()
    communicator.stop(exceptions=False)


async def test_queues_are_unbounded_asyncio_queues() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    assert isinstance(communicator.input_queue, asyncio.Queue)
    assert isinstance(communicator.output_queue, asyncio.Queue)
    assert communicator.input_queue.maxsize == 0
    assert communicator.output_queue.maxsize == 0
    assert communicator.input_queue is attribute(communicator, "_input_queue")
    assert communicator.output_queue is attribute(communicator, "_output_queue")


async def test_application_runs_in_a_fresh_empty_context() -> None:
    variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable")
    variable.set("test value")

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "seen",
                "value": variable.get("unset"),
                "count": len(contextvars.copy_context()),
            }
        )
        variable.set("set by the app")
        await receive()

    communicator = ApplicationCommunicator(app, SCOPE)
    assert await communicator.receive_output() == {"type": "seen", "value": "unset", "count": 0}
    assert variable.get() == "test value"
    communicator.stop()


# --------------------------------------------------------------------------- send_input


async def test_send_input_reraises_the_application_exception() -> None:
    communicator = ApplicationCommunicator(raises_on_first_message(ValueError("broken")), SCOPE)
    # The application has not run yet, so it cannot have failed.
    await communicator.send_input({"type": "first"})
    await until_done(communicator.future)
    with pytest.raises(ValueError, match="broken"):
        await communicator.send_input({"type": "second"})


async def test_send_input_raises_cancelled_error_for_a_cancelled_application() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    communicator.future.cancel()
    await until_done(communicator.future)
    with pytest.raises(asyncio.CancelledError):
        await communicator.send_input({"type": "x"})


async def test_send_input_after_a_normal_finish_still_queues() -> None:
    communicator = ApplicationCommunicator(ends_after_one_message, SCOPE)
    await communicator.send_input({"type": "one"})
    await communicator.wait()
    await communicator.send_input({"type": "two"})
    assert communicator.input_queue.get_nowait() == {"type": "two"}


# --------------------------------------------------------------------------- receive_output


async def test_receive_output_returns_messages_in_order() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    for number in range(3):
        await communicator.send_input({"type": "n", "n": number})
    for number in range(3):
        assert await communicator.receive_output() == {
            "type": "echo",
            "got": {"type": "n", "n": number},
        }


async def test_receive_output_returns_output_queued_before_a_normal_finish() -> None:
    communicator = ApplicationCommunicator(ends_after_one_message, SCOPE)
    await communicator.send_input({"type": "one"})
    await until_done(communicator.future)
    assert await communicator.receive_output() == {"type": "reply", "got": {"type": "one"}}


def sends_then_fails(*, steps_between: int) -> Any:
    """An application that sends two messages, then fails, after ``steps_between`` yields."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        for _ in range(steps_between):
            await anyio.lowlevel.checkpoint()
        await send({"type": "first"})
        await send({"type": "second"})
        raise KeyError("failed after sending")

    return app


async def receive_all_then_the_failure(communicator: ApplicationCommunicator) -> None:
    assert await communicator.receive_output(timeout=30) == {"type": "first"}
    assert await communicator.receive_output(timeout=30) == {"type": "second"}
    for _ in range(2):  # the failure stays, for every later call
        with pytest.raises(KeyError, match="failed after sending"):
            await communicator.receive_output(timeout=30)
    with pytest.raises(KeyError, match="failed after sending"):
        await communicator.send_input({"type": "more"})


# Deviation from the published asgiref, which raises the exception first and so loses
# the messages: a test needs the last response to see why the application failed.
@pytest.mark.ours_only("testing-output-before-failure")
async def test_output_sent_before_a_failure_is_received_before_the_exception() -> None:
    communicator = ApplicationCommunicator(sends_then_fails(steps_between=0), SCOPE)
    await communicator.send_input({"type": "go"})
    await until_done(communicator.future)
    await receive_all_then_the_failure(communicator)


@pytest.mark.parametrize("steps_between", [0, 1, 5])
@pytest.mark.ours_only("testing-output-before-failure")
async def test_output_sent_before_a_failure_while_receiving_comes_first(steps_between: int) -> None:
    # 0: answered within the first pass of the loop; more: a timed wait was under way
    # when the messages and the failure arrived together.
    communicator = ApplicationCommunicator(sends_then_fails(steps_between=steps_between), SCOPE)
    await communicator.send_input({"type": "go"})
    await receive_all_then_the_failure(communicator)


async def test_receive_output_raises_an_exception_raised_while_waiting() -> None:
    communicator = ApplicationCommunicator(raises_on_first_message(ValueError("boom")), SCOPE)
    await communicator.send_input({"type": "go"})
    with pytest.raises(ValueError, match="boom"):
        await communicator.receive_output(timeout=30)


async def test_no_timeout_waits_for_late_output() -> None:
    release = anyio.Event()

    async def late(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await release.wait()
        await send({"type": "late"})

    communicator = ApplicationCommunicator(late, SCOPE)
    received: list[Any] = []

    async def receive() -> None:
        received.append(await communicator.receive_output(timeout=None))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(receive)
            group.start_soon(communicator.wait, None)
            await once_the_others_wait()
            assert received == []
            release.set()
    assert received == [{"type": "late"}]
    assert communicator.future.done()


async def test_receive_output_timeout_cancels_the_application() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    with pytest.raises(EXPECTED_TIMEOUT):
        await communicator.receive_output(timeout=0.01)
    assert communicator.future.cancelled()


async def test_receive_output_timeout_is_the_builtin_timeout_error() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    with pytest.raises(EXPECTED_TIMEOUT) as caught:
        await communicator.receive_output(timeout=0.01)
    assert type(caught.value) is EXPECTED_TIMEOUT
    assert str(caught.value) == ""  # as published: asyncio.timeout's bare TimeoutError
    if sys.version_info >= (3, 11):
        assert type(caught.value) is TimeoutError


async def test_receive_output_timeout_after_a_normal_finish() -> None:
    async def finishes(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        return None

    communicator = ApplicationCommunicator(finishes, SCOPE)
    with pytest.raises(EXPECTED_TIMEOUT):
        await communicator.receive_output(timeout=0.01)
    assert communicator.future.done()
    assert not communicator.future.cancelled()


async def test_exception_raised_while_being_cancelled_wins_over_the_timeout() -> None:
    async def converts(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            await receive()
        except anyio.get_cancelled_exc_class():
            raise RuntimeError("cleanup failed") from None

    communicator = ApplicationCommunicator(converts, SCOPE)
    with pytest.raises(RuntimeError, match="cleanup failed"):
        await communicator.receive_output(timeout=0.01)


# Counts the asyncio loop's timers (call_at/call_later); trio has no such hook.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_receive_output_with_output_waiting_arms_no_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    real_call_later = loop.call_later

    def counting_call_later(delay: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timers.append(delay)
        return real_call_later(delay, *args, **kwargs)

    communicator = ApplicationCommunicator(echo, SCOPE)
    await communicator.send_input({"type": "x"})
    # Returns False as soon as the echo is waiting, without consuming it.
    assert await communicator.receive_nothing(timeout=5) is False
    monkeypatch.setattr(loop, "call_later", counting_call_later)
    assert (await communicator.receive_output())["type"] == "echo"
    assert timers == []
    monkeypatch.undo()
    communicator.stop()


def count_timers(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every timer the running loop arms from now on."""
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    real_call_at, real_call_later = loop.call_at, loop.call_later

    def call_at(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        armed.append(when)
        return real_call_at(when, *args, **kwargs)

    def call_later(delay: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        armed.append(delay)
        return real_call_later(delay, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", call_at)
    monkeypatch.setattr(loop, "call_later", call_later)
    return armed


@pytest.mark.ours_only("testing-one-pass-before-timer")
# Counts the asyncio loop's timers (call_at/call_later); trio has no such hook.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_reply_within_one_loop_pass_arms_no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The way tests call it: send_input, then receive_output at once.  Speed matters
    # here (see benchmarks/bench_testing.py); a timer per message is most of the cost.
    communicator = ApplicationCommunicator(echo, SCOPE)
    armed = count_timers(monkeypatch)
    for number in range(3):
        await communicator.send_input({"type": "n", "n": number})
        assert (await communicator.receive_output())["got"] == {"type": "n", "n": number}
    assert armed == []
    monkeypatch.undo()
    communicator.stop()


async def test_a_slower_reply_is_still_awaited_under_the_timeout() -> None:
    async def slow_echo(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        message = await receive()
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        await send(message)

    communicator = ApplicationCommunicator(slow_echo, SCOPE)
    await communicator.send_input({"type": "slow"})
    assert await communicator.receive_output(timeout=30) == {"type": "slow"}
    await communicator.wait()


async def test_zero_timeout_does_not_let_the_application_run_first() -> None:
    # As published: with nothing queued yet, a zero timeout expires at the next loop
    # pass, and the application is cancelled even though its reply was one step away.
    communicator = ApplicationCommunicator(echo, SCOPE)
    await communicator.send_input({"type": "x"})
    with pytest.raises(EXPECTED_TIMEOUT):
        await communicator.receive_output(timeout=0)
    assert communicator.future.cancelled()


async def test_a_message_of_none_is_returned_like_any_other() -> None:
    async def sends_none(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        await send(None)

    communicator = ApplicationCommunicator(sends_none, SCOPE)
    await communicator.send_input({"type": "go"})
    assert await communicator.receive_output(timeout=30) is None
    await communicator.wait()


def answers_on_demand() -> tuple[Any, anyio.Semaphore]:
    """An application that echoes each input only once the test releases the semaphore."""
    answer = anyio.Semaphore(0)

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            await answer.acquire()
            await send(message)

    return app, answer


async def receive_answered(
    communicator: ApplicationCommunicator, answer: anyio.Semaphore, timeout: float
) -> Any:
    """receive_output(timeout) whose reply is released only once the receiver waits."""
    received: list[Any] = []

    async def receive() -> None:
        received.append(await communicator.receive_output(timeout=timeout))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(receive)
            await once_the_others_wait()
            answer.release()
    return received[0]


async def test_a_shorter_timeout_after_a_longer_wait_still_expires() -> None:
    # Waits share one timer set for the earliest deadline: a later, shorter wait must
    # bring it forward.
    app, answer = answers_on_demand()
    communicator = ApplicationCommunicator(app, SCOPE)
    await communicator.send_input({"type": "one"})
    assert await receive_answered(communicator, answer, timeout=60) == {"type": "one"}
    await communicator.send_input({"type": "unanswered"})
    with anyio.fail_after(30), pytest.raises(EXPECTED_TIMEOUT):
        await communicator.receive_output(timeout=0.01)
    assert communicator.future.cancelled()


async def test_a_longer_timeout_after_a_shorter_wait_still_expires() -> None:
    # The timer of an answered short wait rings for nobody and is set again for the
    # deadline of the wait under way.
    app, answer = answers_on_demand()
    communicator = ApplicationCommunicator(app, SCOPE)
    await communicator.send_input({"type": "one"})
    # Long enough that the reply, released as soon as the receiver waits, comes first.
    assert await receive_answered(communicator, answer, timeout=1.0) == {"type": "one"}
    await communicator.send_input({"type": "unanswered"})
    with anyio.fail_after(30), pytest.raises(EXPECTED_TIMEOUT):
        await communicator.receive_output(timeout=1.2)


@pytest.mark.ours_only("testing-concurrent-receivers")
async def test_concurrent_receivers_each_keep_their_own_timeout() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    patient_ended_with: list[type[BaseException]] = []

    async def patient() -> None:
        # On both backends the application's cancellation surfaces as asyncio's
        # CancelledError (ApplicationCommunicator.future reports it so under trio too).
        try:
            await communicator.receive_output(timeout=60)
        except asyncio.CancelledError as error:
            patient_ended_with.append(type(error))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(patient)
            await once_the_others_wait()
            with pytest.raises(EXPECTED_TIMEOUT):
                await communicator.receive_output(timeout=0.01)
    # The impatient one cancelled the application, which ends the other wait at once
    # (the published asgiref would wait out the 60 s: it does not watch the application).
    assert patient_ended_with == [asyncio.CancelledError]


async def test_concurrent_receivers_are_served_in_order() -> None:
    app, answer = answers_on_demand()
    communicator = ApplicationCommunicator(app, SCOPE)
    received: dict[int, Any] = {}
    served = [anyio.Event() for _ in range(3)]

    async def receiver(place: int) -> None:
        received[place] = await communicator.receive_output(timeout=30)
        served[place].set()

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for place in range(3):
                # One at a time, so they start waiting in this order (trio may
                # otherwise run tasks started together in any order).
                group.start_soon(receiver, place)
                await once_the_others_wait()
            for number in range(3):
                await communicator.send_input({"type": "n", "n": number})
                answer.release()
                await served[number].wait()
    assert [received[place]["n"] for place in range(3)] == [0, 1, 2]
    communicator.stop()


# Task.cancelling() is asyncio's own bookkeeping; trio has no counterpart.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_handled_timeout_leaves_the_callers_cancelling_count_unchanged() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("Task.cancelling() is new in 3.11")
    else:
        task = asyncio.current_task()
        assert task is not None
        before = task.cancelling()
        communicator = ApplicationCommunicator(silent, SCOPE)
        with pytest.raises(TimeoutError):
            await communicator.receive_output(timeout=0.01)
        assert task.cancelling() == before
        waited = ApplicationCommunicator(silent, SCOPE)
        await waited.wait(timeout=0.01)
        assert task.cancelling() == before


def started_echo(started: anyio.Event) -> Any:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started.set()
        await echo(scope, receive, send)

    return app


async def test_cancelling_the_caller_propagates_and_keeps_the_application() -> None:
    started = anyio.Event()
    communicator = ApplicationCommunicator(started_echo(started), SCOPE)
    cancelled: list[bool] = []

    async def receive(scope: anyio.CancelScope) -> None:
        with scope:
            try:
                await communicator.receive_output(timeout=30)
            except anyio.get_cancelled_exc_class():
                cancelled.append(True)
                raise

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()
            group.start_soon(receive, scope)
            # The application only starts once receive_output has begun its wait.
            await started.wait()
            scope.cancel()
    assert cancelled == [True]
    assert not communicator.future.done()
    await communicator.send_input({"type": "still alive"})
    assert (await communicator.receive_output())["got"] == {"type": "still alive"}
    communicator.stop()


@pytest.mark.parametrize("steps_before_cancel", range(6))
async def test_no_message_is_lost_when_the_caller_is_cancelled(steps_before_cancel: int) -> None:
    # Cancel the waiting receiver at every point of the hand-over of one message: the
    # message is either returned or still in the queue afterwards, never dropped.
    communicator = ApplicationCommunicator(silent, SCOPE)
    received: list[Any] = []
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:

            async def receive() -> None:
                received.append(await communicator.receive_output(timeout=30))

            group.start_soon(receive)
            await once_the_others_wait()
            communicator.output_queue.put_nowait({"type": "precious"})
            communicator.output_queue.put_nowait({"type": "next"})
            for _ in range(steps_before_cancel):
                await anyio.lowlevel.checkpoint()
            group.cancel_scope.cancel()
    remaining: list[str] = []
    while not communicator.output_queue.empty():
        remaining.append(communicator.output_queue.get_nowait()["type"])
    if received:
        assert received == [{"type": "precious"}]
        assert remaining == ["next"]
    else:
        assert remaining == ["precious", "next"]
    communicator.stop()


# --------------------------------------------------------------------------- receive_nothing


async def test_receive_nothing_is_true_when_nothing_arrives() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    assert await communicator.receive_nothing(timeout=0.02, interval=0.005) is True
    communicator.stop()


async def test_receive_nothing_is_false_and_consumes_nothing() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    await communicator.send_input({"type": "x"})
    assert await communicator.receive_nothing() is False
    assert await communicator.receive_nothing() is False
    assert (await communicator.receive_output())["type"] == "echo"
    communicator.stop()


async def test_receive_nothing_is_true_after_a_normal_exit() -> None:
    communicator = ApplicationCommunicator(ends_after_one_message, SCOPE)
    await communicator.send_input({"type": "x"})
    await communicator.receive_output()
    await communicator.wait()
    assert await communicator.receive_nothing(timeout=0.01) is True


async def test_receive_nothing_raises_the_application_exception() -> None:
    communicator = ApplicationCommunicator(raises_on_first_message(OSError("gone")), SCOPE)
    await communicator.send_input({"type": "x"})
    await until_done(communicator.future)
    with pytest.raises(OSError, match="gone"):
        await communicator.receive_nothing()


# --------------------------------------------------------------------------- wait


async def test_wait_returns_none_after_a_normal_finish() -> None:
    communicator = ApplicationCommunicator(ends_after_one_message, SCOPE)
    await communicator.send_input({"type": "x"})
    await communicator.wait()  # returns, raising nothing
    assert communicator.future.done()


async def test_wait_propagates_the_application_exception() -> None:
    communicator = ApplicationCommunicator(raises_on_first_message(LookupError("nope")), SCOPE)
    await communicator.send_input({"type": "x"})
    with pytest.raises(LookupError, match="nope"):
        await communicator.wait()


async def test_wait_swallows_a_cancelled_application() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    communicator.future.cancel()
    await communicator.wait()  # returns, raising nothing


async def test_wait_timeout_cancels_the_application_and_returns_none() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    await communicator.wait(timeout=0.01)  # returns, raising nothing
    assert communicator.future.cancelled()


async def test_wait_timeout_propagates_an_exception_the_cancellation_caused() -> None:
    async def converts(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            raise ConnectionError("closing failed") from None

    communicator = ApplicationCommunicator(converts, SCOPE)
    with pytest.raises(ConnectionError, match="closing failed"):
        await communicator.wait(timeout=0.01)


@pytest.mark.ours_only("testing-wait-cancellation")
async def test_cancelling_wait_cancels_the_application_and_propagates() -> None:
    # Deliberate difference from the published asgiref, which swallows the caller's
    # cancellation here: a cancelled task must see its CancelledError.
    started = anyio.Event()
    communicator = ApplicationCommunicator(started_echo(started), SCOPE)
    cancelled: list[bool] = []

    async def wait(scope: anyio.CancelScope) -> None:
        with scope:
            try:
                await communicator.wait(timeout=30)
            except anyio.get_cancelled_exc_class():
                cancelled.append(True)
                raise

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()
            group.start_soon(wait, scope)
            await started.wait()
            scope.cancel()
    assert cancelled == [True]
    assert communicator.future.cancelled()


# --------------------------------------------------------------------------- stop and __del__


def test_stop_without_a_started_application_does_nothing() -> None:
    communicator = ApplicationCommunicator(echo, SCOPE)
    communicator.stop()
    assert attribute(communicator, "_future") is None


async def test_stop_cancels_a_running_application_without_waiting() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    future = communicator.future
    await anyio.lowlevel.checkpoint()
    communicator.stop()
    assert not future.done()  # cancellation requested, not yet processed
    await until_done(future)
    assert future.cancelled()


async def test_stop_reraises_a_finished_applications_exception_only_if_asked() -> None:
    communicator = ApplicationCommunicator(raises_on_first_message(ValueError("x")), SCOPE)
    await communicator.send_input({"type": "go"})
    await until_done(communicator.future)
    communicator.stop(exceptions=False)
    with pytest.raises(ValueError, match="x"):
        communicator.stop()
    with pytest.raises(ValueError, match="x"):
        communicator.stop(exceptions=True)


async def test_dropping_a_communicator_cancels_its_application() -> None:
    communicator = ApplicationCommunicator(silent, SCOPE)
    future = communicator.future
    await anyio.lowlevel.checkpoint()
    del communicator
    gc.collect()
    await until_done(future)
    assert future.cancelled()


def test_dropping_a_communicator_after_its_loop_closed_is_silent() -> None:
    loop = asyncio.new_event_loop()
    communicator = ApplicationCommunicator(silent, SCOPE)

    async def start(started: ApplicationCommunicator) -> None:
        started.future  # noqa: B018 - starts the application
        await anyio.lowlevel.checkpoint()

    loop.run_until_complete(start(communicator))
    future = communicator.future
    loop.close()
    # stop() now meets a closed loop (RuntimeError), which __del__ must swallow; an
    # escaping exception would reach sys.unraisablehook, which pytest turns into an error.
    communicator.__del__()
    assert not future.done()
    # The task and its waiter form a reference cycle: collect it now, so asyncio's
    # "Task was destroyed but it is pending" log lands in this test, not a later one.
    del communicator, future
    gc.collect()

"""asgiref.sync.observe: the events of each hop kind, their order, nesting, concurrency, errors."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import anyio.to_thread
import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.sync.observe import BridgeObserver, Hop, add_observer, observing, remove_observer

pytestmark = pytest.mark.anyio

Event = tuple[str, int, str]  # (event, hop id, thread name)


class Recorder(BridgeObserver):
    """Records every event with the thread it ran in; the token is the hop's id."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.hops: dict[int, Hop] = {}
        self.tokens_seen: list[tuple[str, object]] = []

    def _note(self, event: str, hop: Hop) -> None:
        # list.append is atomic: events from many threads interleave safely.
        self.events.append((event, hop.id, threading.current_thread().name))

    def hop_submitted(self, hop: Hop) -> object:
        self.hops[hop.id] = hop
        self._note("submitted", hop)
        return ("token", hop.id)

    def hop_started(self, hop: Hop, token: Any) -> None:
        self.tokens_seen.append(("started", token))
        self._note("started", hop)

    def hop_ended(self, hop: Hop, token: Any) -> None:
        self.tokens_seen.append(("ended", token))
        self._note("ended", hop)

    def hop_resumed(self, hop: Hop, token: Any) -> None:
        self.tokens_seen.append(("resumed", token))
        self._note("resumed", hop)

    def kinds(self, hop_id: int) -> list[str]:
        return [event for event, ident, _ in self.events if ident == hop_id]

    def threads(self, hop_id: int) -> dict[str, str]:
        return {event: thread for event, ident, thread in self.events if ident == hop_id}


FULL = ["submitted", "started", "ended", "resumed"]


def _only_hop(recorder: Recorder) -> Hop:
    assert len(recorder.hops) == 1, recorder.hops
    return next(iter(recorder.hops.values()))


def _sync_name() -> str:
    return threading.current_thread().name


# Checks hop.loop, the asyncio loop awaiting the call.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_thread_sensitive_call_on_the_process_wide_thread() -> None:
    with observing(Recorder()) as recorder:
        worker = await sync_to_async(_sync_name)()
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL
    threads = recorder.threads(hop.id)
    caller = threading.current_thread().name
    assert threads == {"submitted": caller, "started": worker, "ended": worker, "resumed": caller}
    assert hop.direction == "sync_to_async"
    assert hop.func is _sync_name
    assert hop.name == "_sync_name"
    assert hop.thread_sensitive
    assert hop.route == "process-wide"
    assert hop.executor is SyncToAsync.single_thread_executor
    assert hop.lane.startswith("asgiref-sync-worker")
    assert hop.thread == worker
    assert hop.caller_thread == caller
    assert hop.loop is asyncio.get_running_loop()
    assert hop.error is None
    assert hop.outcome_error is None
    assert not hop.cancelled
    assert hop.parent is None
    assert hop.queue_wait is not None
    assert hop.queue_wait >= 0
    assert hop.run_time is not None
    assert hop.run_time >= 0
    assert hop.started_at is not None
    assert hop.ended_at is not None
    assert hop.resumed_at is not None
    assert hop.submitted_at <= hop.started_at <= hop.ended_at <= hop.resumed_at
    # The token returned when submitted comes back to every later event.
    assert recorder.tokens_seen == [(event, ("token", hop.id)) for event in FULL[1:]]


async def test_thread_sensitive_call_in_a_context_names_its_lane() -> None:
    with observing(Recorder()) as recorder:
        async with ThreadSensitiveContext():
            worker = await sync_to_async(_sync_name)()
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL
    assert hop.route == "context"
    assert hop.lane == worker == hop.thread


@pytest.mark.parametrize("explicit", [False, True])
async def test_non_thread_sensitive_call(explicit: bool) -> None:
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custom-pool")
    try:
        wrapper = sync_to_async(
            _sync_name, thread_sensitive=False, executor=executor if explicit else None
        )
        with observing(Recorder()) as recorder:
            worker = await wrapper()
    finally:
        executor.shutdown()
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL
    assert not hop.thread_sensitive
    assert hop.thread == worker
    if explicit:
        assert (hop.route, hop.lane, hop.executor) == ("executor", "custom-pool", executor)
    else:
        assert (hop.route, hop.lane, hop.executor) == ("default", "loop default executor", None)


@pytest.mark.parametrize("thread_sensitive", [True, False])
async def test_a_call_that_cannot_be_submitted_still_resumes(
    thread_sensitive: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submitting raises (the executor was shut down, asgiref #495): the caller gets that
    error and the observers a hop_resumed carrying it, so every submitted hop resumes."""
    shut_down = ThreadPoolExecutor(max_workers=1)
    shut_down.shutdown()
    if thread_sensitive:
        monkeypatch.setattr(SyncToAsync, "single_thread_executor", shut_down)
        wrapper = sync_to_async(_sync_name)
    else:
        wrapper = sync_to_async(_sync_name, thread_sensitive=False, executor=shut_down)
    refused = pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown")
    with observing(Recorder()) as recorder, refused as caught:
        await wrapper()
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == ["submitted", "resumed"]
    assert hop.outcome_error is caught.value
    assert hop.started_at is None
    assert hop.ended_at is None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # nests asyncio loops
async def test_a_call_refused_as_a_deadlock_is_never_submitted() -> None:
    """A call refused before it is queued (the cycle errors) makes no hop: the observers
    hear only the outer call, whose every event arrives."""

    async def nested() -> None:
        await sync_to_async(_sync_name)()

    def view() -> None:
        contextvars.Context().run(asyncio.run, nested())

    with observing(Recorder()) as recorder, pytest.raises(RuntimeError, match="would deadlock"):
        await sync_to_async(view)()
    hop = _only_hop(recorder)
    assert hop.name.endswith("view")
    assert recorder.kinds(hop.id) == FULL


async def _loop_thread_name() -> str:
    return threading.current_thread().name


def test_async_to_sync_on_a_new_loop() -> None:
    with observing(Recorder()) as recorder:
        loop_thread = async_to_sync(_loop_thread_name)()
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL
    assert hop.direction == "async_to_sync"
    assert hop.route == "new-loop"
    assert not hop.thread_sensitive
    assert hop.lane == hop.thread == loop_thread
    assert hop.caller_thread == threading.current_thread().name
    assert isinstance(hop.loop, asyncio.AbstractEventLoop)
    threads = recorder.threads(hop.id)
    assert threads["submitted"] == threads["resumed"] == threading.current_thread().name
    assert threads["started"] == threads["ended"] == loop_thread


async def test_nesting_links_each_hop_to_the_one_whose_work_made_it() -> None:
    """async caller -> TS view -> async_to_sync (parent loop) -> TS query on the view's thread."""

    async def inner() -> str:
        return await sync_to_async(_sync_name)()

    def view() -> tuple[str, str]:
        return threading.current_thread().name, async_to_sync(inner)()

    with observing(Recorder()) as recorder:
        async with ThreadSensitiveContext():
            view_thread, query_thread = await sync_to_async(view)()
    assert view_thread == query_thread  # the inner TS call comes back to the view's thread
    view_hop, bridge_hop, query_hop = sorted(recorder.hops.values(), key=lambda h: h.id)
    assert view_hop.parent is None
    assert bridge_hop.parent is view_hop
    assert query_hop.parent is bridge_hop
    assert [h.depth for h in (view_hop, bridge_hop, query_hop)] == [0, 1, 2]
    assert bridge_hop.route == "parent-loop"
    assert bridge_hop.thread == threading.current_thread().name  # ran on this loop
    assert query_hop.route == "bridge"
    assert query_hop.lane == view_thread
    # Properly nested: each inner hop is over before its parent's work ends.
    order = [(event, ident) for event, ident, _ in recorder.events]
    assert order == [
        ("submitted", view_hop.id),
        ("started", view_hop.id),
        ("submitted", bridge_hop.id),
        ("started", bridge_hop.id),
        ("submitted", query_hop.id),
        ("started", query_hop.id),
        ("ended", query_hop.id),
        ("resumed", query_hop.id),
        ("ended", bridge_hop.id),
        ("resumed", bridge_hop.id),
        ("ended", view_hop.id),
        ("resumed", view_hop.id),
    ]


async def test_the_current_hop_does_not_leak_into_the_caller() -> None:
    with observing(Recorder()) as recorder:
        await sync_to_async(_sync_name)()
        await sync_to_async(_sync_name)()
    first, second = sorted(recorder.hops.values(), key=lambda h: h.id)
    # Siblings, not parent and child: the copied-back context did not carry the hop.
    assert first.parent is None
    assert second.parent is None


@pytest.mark.parametrize("thread_sensitive", [True, False])
async def test_a_thousand_concurrent_hops_each_have_every_event(thread_sensitive: bool) -> None:
    wrapper = sync_to_async(_sync_name, thread_sensitive=thread_sensitive)
    with observing(Recorder()) as recorder:
        async with anyio.create_task_group() as group:
            for _ in range(1000):
                group.start_soon(wrapper)
    assert len(recorder.hops) == 1000
    for hop_id in recorder.hops:
        assert recorder.kinds(hop_id) == FULL, hop_id


class Boom(Exception):
    pass


async def test_the_work_s_exception_is_on_the_hop_as_the_same_object() -> None:
    error = Boom("view failed")

    def fail() -> None:
        raise error

    with observing(Recorder()) as recorder, pytest.raises(Boom) as caught:
        await sync_to_async(fail)()
    assert caught.value is error
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL
    assert hop.error is error
    assert hop.outcome_error is error


def test_async_to_sync_exception_is_on_the_hop() -> None:
    error = Boom("coroutine failed")

    async def fail() -> None:
        raise error

    with observing(Recorder()) as recorder, pytest.raises(Boom):
        async_to_sync(fail)()
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL
    assert hop.error is error
    assert hop.outcome_error is error


class EndSignalling(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.ended = threading.Event()

    def hop_ended(self, hop: Hop, token: Any) -> None:
        super().hop_ended(hop, token)
        self.ended.set()


async def test_a_cancelled_caller_resumes_before_the_work_ends() -> None:
    entered = threading.Event()
    release = threading.Event()

    def blocking() -> None:
        entered.set()
        release.wait(10)

    recorder = EndSignalling()
    with observing(recorder), anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(sync_to_async(blocking, thread_sensitive=False))
            assert await anyio.to_thread.run_sync(entered.wait, 10)
            group.cancel_scope.cancel()
    # Removed meanwhile: the hop's own observers (taken when submitted) still hear its end.
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == ["submitted", "started", "resumed"]
    assert hop.cancelled
    assert isinstance(hop.outcome_error, anyio.get_cancelled_exc_class())
    release.set()
    assert await anyio.to_thread.run_sync(recorder.ended.wait, 10)
    assert recorder.kinds(hop.id) == ["submitted", "started", "resumed", "ended"]


class Faulty(BridgeObserver):
    def hop_submitted(self, hop: Hop) -> object:
        raise RuntimeError("submitted broke")

    def hop_started(self, hop: Hop, token: Any) -> None:
        raise RuntimeError("started broke")

    def hop_ended(self, hop: Hop, token: Any) -> None:
        raise RuntimeError("ended broke")

    def hop_resumed(self, hop: Hop, token: Any) -> None:
        raise RuntimeError("resumed broke")


async def test_a_failing_observer_is_logged_and_never_breaks_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="asgiref.sync"),
        observing(Faulty()),
        observing(Recorder()) as recorder,
    ):
        assert await sync_to_async(lambda: 42)() == 42
    messages = [r.getMessage() for r in caplog.records if r.name == "asgiref.sync"]
    for event in FULL:
        assert any(f"failed in hop_{event}" in m for m in messages), (event, messages)
    # The other observer still saw everything, and got its own token.
    hop = _only_hop(recorder)
    assert recorder.kinds(hop.id) == FULL


def test_a_failing_observer_does_not_break_async_to_sync(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="asgiref.sync"), observing(Faulty()):
        assert async_to_sync(_loop_thread_name)().startswith("asgiref-loop")
    assert len([r for r in caplog.records if r.name == "asgiref.sync"]) == 4


async def test_events_an_observer_does_not_override_are_never_called() -> None:
    """Which events to call is decided once, at registration: a subclass overriding only
    hop_ended hears only that (its token is None), and a method set on the instance later
    is not seen."""
    heard: list[tuple[str, object]] = []

    class EndsOnly(BridgeObserver):
        def hop_ended(self, hop: Hop, token: Any) -> None:
            heard.append(("ended", token))

    def late_started(hop: Hop, token: Any) -> None:
        heard.append(("started", token))

    observer = EndsOnly()
    with observing(observer):
        setattr(observer, "hop_started", late_started)  # noqa: B010 - a late instance attribute
        await sync_to_async(_sync_name)()
    assert heard == [("ended", None)]


async def test_removed_observers_hear_nothing_of_new_hops() -> None:
    recorder = Recorder()
    add_observer(recorder)
    add_observer(recorder)  # once only
    await sync_to_async(_sync_name)()
    remove_observer(recorder)
    await sync_to_async(_sync_name)()
    assert len(recorder.hops) == 1
    assert len(recorder.events) == 4
    with pytest.raises(ValueError, match="not a registered bridge observer"):
        remove_observer(recorder)


def test_only_bridge_observers_can_be_added() -> None:
    with pytest.raises(TypeError, match="BridgeObserver"):
        add_observer(object())  # type: ignore[arg-type]  # the point of the test


def test_observing_removes_the_observer_on_error() -> None:
    recorder = Recorder()
    with pytest.raises(Boom), observing(recorder):
        raise Boom
    with pytest.raises(ValueError, match="not a registered"):
        remove_observer(recorder)


marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


class ContextCarrier(BridgeObserver):
    """What an agent does with the hand-off slot: make its value current where the work runs."""

    def __init__(self) -> None:
        self.seen_in_caller_after: list[str] = []

    def hop_submitted(self, hop: Hop) -> object:
        return {"value": f"span-of-{hop.name}", "reset": None}

    def hop_started(self, hop: Hop, token: Any) -> None:
        token["reset"] = marker.set(token["value"])

    def hop_ended(self, hop: Hop, token: Any) -> None:
        marker.reset(token["reset"])

    def hop_resumed(self, hop: Hop, token: Any) -> None:
        self.seen_in_caller_after.append(marker.get())


def _read_marker() -> str:
    return marker.get()


async def test_the_token_carries_a_value_into_the_work_without_touching_arguments() -> None:
    with observing(ContextCarrier()) as carrier:
        assert await sync_to_async(_read_marker)() == "span-of-_read_marker"
    # Reset where it was set: nothing leaks back into the caller's context.
    assert carrier.seen_in_caller_after == ["unset"]
    assert marker.get() == "unset"


async def test_agents_popping_injected_keywords_still_work_beside_an_observer() -> None:
    """The New Relic shape: a keyword injected in __call__, popped from the partial."""
    seen: list[dict[str, Any]] = []

    class Instrumented(SyncToAsync[..., Any]):
        async def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return await super().__call__(*args, _agent_trace="t1", **kwargs)

        def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
            child = args[-1]
            seen.append({"agent": child.keywords.pop("_agent_trace"), "func": child.func})
            return super().thread_handler(loop, *args, **kwargs)

    def add(x: int, y: int) -> int:
        return x + y

    with observing(Recorder()) as recorder:
        assert await Instrumented(add)(1, y=2) == 3
    assert seen == [{"agent": "t1", "func": add}]
    assert recorder.kinds(_only_hop(recorder).id) == FULL


FORK_SCRIPT = """
import asyncio, os, signal, sys, threading
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.sync.observe import BridgeObserver, add_observer

class Counter(BridgeObserver):
    def __init__(self):
        self.events = []
    def hop_submitted(self, hop):
        self.events.append(("submitted", os.getpid()))
    def hop_ended(self, hop, token):
        self.events.append(("ended", os.getpid()))

counter = Counter()
add_observer(counter)
asyncio.run(sync_to_async(threading.current_thread)())
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hang fails instead of stalling the test
    counter.events.clear()
    async def coro():
        return await sync_to_async(threading.current_thread)()
    async_to_sync(coro)()
    me = os.getpid()
    ok = counter.events == [("submitted", me), ("submitted", me), ("ended", me), ("ended", me)]
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_observers_stay_registered_in_a_forked_child() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", FORK_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""StatelessServer as 60-server.md describes it."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from typing import Any

import asgiref.server
import pytest
from asgiref.server import StatelessServer

pytestmark = pytest.mark.anyio


async def idle_app(*, scope: dict[str, Any], receive: Any, send: Any) -> None:
    # Keyword-only parameters: the server must call scope=, receive=, send=.
    while True:
        await receive()


async def wait_until(condition: Any, deadline: float = 5.0) -> None:
    """Poll ``condition`` until true; fail after ``deadline`` seconds (no fixed sleeps)."""
    give_up = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.005)


class Recorder(StatelessServer):
    """Collects what applications send and what the checker reports."""

    application_checker_interval = 0.01

    def __init__(self, application: Any, max_applications: float = 1000) -> None:
        super().__init__(application, max_applications)
        self.sent: list[tuple[Any, Any]] = []
        self.exceptions: list[tuple[BaseException, dict[str, Any]]] = []
        self.exception_seen = asyncio.Event()

    async def application_send(self, scope: Any, message: Any) -> None:
        self.sent.append((scope, message))

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        self.exceptions.append((exception, application_details))
        self.exception_seen.set()


# --------------------------------------------------------------------------- API and state


def test_public_names() -> None:
    assert asgiref.server.logger is logging.getLogger("asgiref.server")
    assert StatelessServer.__module__ == "asgiref.server"
    assert StatelessServer.application_checker_interval == 0.1


def test_construction_positional_and_state() -> None:
    server = StatelessServer(idle_app, 7)
    assert server.application is idle_app
    assert server.max_applications == 7
    assert server.application_instances == {}
    assert StatelessServer(idle_app).max_applications == 1000


async def test_default_handle_and_application_send_must_be_overridden() -> None:
    server = StatelessServer(idle_app)
    with pytest.raises(NotImplementedError) as caught:
        await server.handle()
    assert str(caught.value) == "You must implement handle()"
    with pytest.raises(NotImplementedError) as caught:
        await server.application_send({}, {})
    assert str(caught.value) == "You must implement application_send()"


# --------------------------------------------------------------------------- instances


async def test_new_instance_is_started_with_keyword_arguments() -> None:
    received: list[Any] = []
    done = asyncio.Event()

    async def app(*, scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.append(await receive())
        await send({"type": "reply", "to": scope["id"]})
        done.set()

    server = Recorder(app)
    before = time.time()
    queue = server.get_or_create_application_instance("one", {"type": "custom", "id": 1})
    assert isinstance(queue, asyncio.Queue)
    details = server.application_instances["one"]
    assert set(details) == {"input_queue", "future", "scope", "last_used"}
    assert details["input_queue"] is queue
    assert isinstance(details["future"], asyncio.Future)
    assert details["scope"] == {"type": "custom", "id": 1}
    assert before <= details["last_used"] <= time.time()
    queue.put_nowait({"type": "hello"})
    await asyncio.wait_for(done.wait(), 5)
    assert received == [{"type": "hello"}]
    assert server.sent == [({"type": "custom", "id": 1}, {"type": "reply", "to": 1})]


async def test_existing_instance_keeps_its_scope_and_refreshes_last_used() -> None:
    server = Recorder(idle_app)
    queue = server.get_or_create_application_instance("a", {"type": "first"})
    server.application_instances["a"]["last_used"] = 0.0
    again = server.get_or_create_application_instance("a", {"type": "ignored"})
    assert again is queue
    assert server.application_instances["a"]["scope"] == {"type": "first"}
    assert server.application_instances["a"]["last_used"] > 0.0
    assert len(server.application_instances) == 1
    server.delete_application_instance("a")


async def test_double_callable_application_is_adapted() -> None:
    started = asyncio.Event()

    class Legacy:
        def __init__(self, scope: dict[str, Any]) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await send({"type": "started", "scope": self.scope})
            started.set()

    server = Recorder(Legacy)
    server.get_or_create_application_instance("x", {"type": "custom"})
    await asyncio.wait_for(started.wait(), 5)
    assert server.sent == [({"type": "custom"}, {"type": "started", "scope": {"type": "custom"}})]


@pytest.mark.ours_only("server-max-applications-bound")
async def test_max_applications_evicts_the_least_recently_used() -> None:
    server = Recorder(idle_app, max_applications=2)
    for number, name in enumerate("ab"):
        server.get_or_create_application_instance(name, {"type": "custom"})
        # Explicit times: wall-clock readings taken this close together may tie.
        server.application_instances[name]["last_used"] = float(number)
    futures = {name: details["future"] for name, details in server.application_instances.items()}
    server.get_or_create_application_instance("a", {"type": "custom"})  # now the newest
    server.get_or_create_application_instance("c", {"type": "custom"})
    assert list(server.application_instances) == ["a", "c"]
    await asyncio.wait({futures["b"]}, timeout=5)
    assert futures["b"].cancelled()
    assert not futures["a"].done()
    for name in list(server.application_instances):
        server.delete_application_instance(name)


# Deviation from the published asgiref, whose ">" check lets max_applications + 1 exist.
@pytest.mark.ours_only("server-max-applications-bound")
@pytest.mark.parametrize("bound", [1, 2, 5])
async def test_never_more_than_max_applications_instances(bound: int) -> None:
    server = Recorder(idle_app, max_applications=bound)
    most = 0
    for number in range(3 * bound + 2):
        server.get_or_create_application_instance(number, {"type": "custom"})
        most = max(most, len(server.application_instances))
    assert most == bound
    # The newest ones are kept.
    assert list(server.application_instances) == list(range(2 * bound + 2, 3 * bound + 2))
    for name in list(server.application_instances):
        server.delete_application_instance(name)


async def test_an_existing_instance_never_evicts_anything() -> None:
    server = Recorder(idle_app, max_applications=2)
    server.get_or_create_application_instance("a", {"type": "custom"})
    server.get_or_create_application_instance("b", {"type": "custom"})
    for _ in range(3):
        server.get_or_create_application_instance("a", {"type": "custom"})
    assert list(server.application_instances) == ["a", "b"]
    for name in list(server.application_instances):
        server.delete_application_instance(name)


@pytest.mark.ours_only("server-max-applications-checked")
@pytest.mark.parametrize("bound", [0, -1, 0.5, float("nan")])
def test_max_applications_below_one_is_refused(bound: float) -> None:
    with pytest.raises(ValueError, match=f"max_applications must be at least 1.*got {bound}"):
        StatelessServer(idle_app, bound)


@pytest.mark.ours_only("server-max-applications-checked")
@pytest.mark.parametrize("bound", ["10", True, None])
def test_max_applications_must_be_a_number(bound: Any) -> None:
    with pytest.raises(TypeError, match="max_applications must be a number"):
        StatelessServer(idle_app, bound)


async def test_an_infinite_max_applications_means_no_bound() -> None:
    server = Recorder(idle_app, max_applications=float("inf"))
    for number in range(20):
        server.get_or_create_application_instance(number, {"type": "custom"})
    assert len(server.application_instances) == 20
    for name in list(server.application_instances):
        server.delete_application_instance(name)


async def test_delete_oldest_removes_exactly_one_first_on_ties() -> None:
    server = Recorder(idle_app)
    with pytest.raises(ValueError):  # noqa: PT011 - the spec fixes only the type (from min())
        server.delete_oldest_application_instance()
    for name in "xyz":
        server.get_or_create_application_instance(name, {"type": "custom"})
        server.application_instances[name]["last_used"] = 5.0
    server.delete_oldest_application_instance()
    assert list(server.application_instances) == ["y", "z"]
    server.application_instances["z"]["last_used"] = 1.0
    server.delete_oldest_application_instance()
    assert list(server.application_instances) == ["y"]
    server.delete_application_instance("y")


async def test_delete_application_instance() -> None:
    server = Recorder(idle_app)
    with pytest.raises(KeyError):
        server.delete_application_instance("missing")
    server.get_or_create_application_instance("running", {"type": "custom"})
    future = server.application_instances["running"]["future"]
    server.delete_application_instance("running")
    assert "running" not in server.application_instances
    assert not future.done()  # cancellation requested, not awaited
    await asyncio.wait({future}, timeout=5)
    assert future.cancelled()

    async def quick(*, scope: Any, receive: Any, send: Any) -> str:
        return "finished"

    server.application = quick
    server.get_or_create_application_instance("finished", {"type": "custom"})
    finished = server.application_instances["finished"]["future"]
    await asyncio.wait({finished}, timeout=5)
    server.delete_application_instance("finished")
    assert finished.result() == "finished"


# --------------------------------------------------------------------------- application_checker


async def test_checker_reports_failures_and_removes_finished_instances() -> None:
    async def app(*, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] == "fail":
            raise ValueError(f"instance {scope['id']} failed")

    server = Recorder(app)
    checker = asyncio.ensure_future(server.application_checker())
    for name in ("ok", "fails", "running"):
        server.get_or_create_application_instance(name, {"type": "custom", "id": name})
    server.application_instances["ok"]["input_queue"].put_nowait({"type": "finish"})
    server.application_instances["fails"]["input_queue"].put_nowait({"type": "fail"})
    fails_details = server.application_instances["fails"]

    await asyncio.wait_for(server.exception_seen.wait(), 5)
    await wait_until(lambda: set(server.application_instances) == {"running"})
    ((exception, details),) = server.exceptions
    assert isinstance(exception, ValueError)
    assert str(exception) == "instance fails failed"
    assert details is fails_details
    assert not checker.done()
    checker.cancel()
    await asyncio.wait({checker})
    server.delete_application_instance("running")


async def test_checker_tolerates_a_handler_that_removes_the_instance() -> None:
    class Removing(Recorder):
        async def application_exception(
            self, exception: BaseException, application_details: dict[str, Any]
        ) -> None:
            for key, details in list(self.application_instances.items()):
                if details is application_details:
                    del self.application_instances[key]
            await super().application_exception(exception, application_details)

    async def app(*, scope: Any, receive: Any, send: Any) -> None:
        raise OSError("gone")

    server = Removing(app)
    checker = asyncio.ensure_future(server.application_checker())
    server.get_or_create_application_instance("x", {"type": "custom"})
    await asyncio.wait_for(server.exception_seen.wait(), 5)
    await wait_until(lambda: not server.application_instances)
    # A second failure still gets reported: the checker survived the concurrent removal.
    server.exception_seen.clear()
    server.get_or_create_application_instance("y", {"type": "custom"})
    await asyncio.wait_for(server.exception_seen.wait(), 5)
    assert not checker.done()
    checker.cancel()
    await asyncio.wait({checker})


async def test_checker_ends_on_a_cancelled_registered_instance() -> None:
    # Published behaviour kept on purpose (60-server.md, "Notes"): exception() of a
    # cancelled task raises CancelledError, which ends the checker.
    server = Recorder(idle_app)
    server.get_or_create_application_instance("x", {"type": "custom"})
    server.application_instances["x"]["future"].cancel()
    checker = asyncio.ensure_future(server.application_checker())
    await asyncio.wait({checker}, timeout=5)
    assert checker.cancelled()
    assert "x" in server.application_instances


async def test_default_application_exception_logs_on_the_root_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = StatelessServer(idle_app)
    try:
        raise KeyError("missing thing")
    except KeyError as error:
        exception = error
    with caplog.at_level(logging.ERROR):
        await server.application_exception(exception, {})
    # Only the root logger's records: unrelated libraries may log meanwhile.
    (record,) = [record for record in caplog.records if record.name == "root"]
    assert record.levelno == logging.ERROR
    frames = "".join(traceback.format_tb(exception.__traceback__))
    assert frames  # the raise above is in it
    assert record.getMessage() == (
        f"Exception inside application: 'missing thing'\n{frames}  'missing thing'"
    )
    assert record.msg == "Exception inside application: %s\n%s%s"
    assert record.args == (exception, frames, "  'missing thing'")
    assert record.exc_info is None


def test_default_application_exception_reaches_an_unconfigured_process() -> None:
    # Through the root logger's module function: with no logging configured, a default
    # stderr handler is installed, so the failure is never silent.
    script = textwrap.dedent(
        """
        import asyncio, logging
        from asgiref.server import StatelessServer

        async def main():
            await StatelessServer(None).application_exception(RuntimeError("lost?"), {})

        assert not logging.getLogger().handlers
        asyncio.run(main())
        assert logging.getLogger().handlers
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "ERROR:root:Exception inside application: lost?\n  lost?\n"


# --------------------------------------------------------------------------- run and arun


class OneShot(Recorder):
    """handle() starts one instance, waits for its reply, then returns (or raises)."""

    def __init__(self, application: Any, error: BaseException | None = None) -> None:
        super().__init__(application)
        self.error = error
        self.checker_sweeps = 0
        self.checker_cancelled = threading.Event()

    async def application_checker(self) -> None:
        try:
            await super().application_checker()
        except asyncio.CancelledError:
            self.checker_cancelled.set()
            raise

    async def handle(self) -> None:
        queue = self.get_or_create_application_instance("only", {"type": "custom"})
        await queue.put({"type": "ping"})
        future = self.application_instances["only"]["future"]
        await future
        if self.error is not None:
            raise self.error


async def answering_app(*, scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "pong", "got": await receive()})


def test_run_returns_after_handle_and_cancels_the_checker() -> None:
    server = OneShot(answering_app)
    server.run()
    assert server.sent == [({"type": "custom"}, {"type": "pong", "got": {"type": "ping"}})]
    assert server.checker_cancelled.is_set()


def test_run_works_in_a_thread_without_an_event_loop() -> None:
    server = OneShot(answering_app)
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            server.run()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=target, name="stateless-server-test")
    thread.start()
    thread.join(30)
    assert outcome == [None]
    assert len(server.sent) == 1


def test_run_logs_keyboard_interrupt_and_returns(caplog: pytest.LogCaptureFixture) -> None:
    server = OneShot(answering_app, error=KeyboardInterrupt())
    with caplog.at_level(logging.INFO, logger="asgiref.server"):
        server.run()
    messages = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert ("asgiref.server", logging.INFO, "Exiting due to Ctrl-C/interrupt") in messages


def test_run_propagates_other_exceptions() -> None:
    server = OneShot(answering_app, error=ConnectionResetError("transport lost"))
    with pytest.raises(ConnectionResetError, match="transport lost"):
        server.run()


async def test_arun_returns_when_handle_returns_and_leaves_the_checker_running() -> None:
    server = OneShot(answering_app)
    before = asyncio.all_tasks()
    await server.arun()
    leftover = [task for task in asyncio.all_tasks() - before if not task.done()]
    assert len(leftover) == 1
    (checker,) = leftover
    # Still sweeping: a failure after arun() returned is reported and removed.

    async def failing(*, scope: Any, receive: Any, send: Any) -> None:
        raise LookupError("late failure")

    server.application = failing
    server.get_or_create_application_instance("late", {"type": "custom"})
    await asyncio.wait_for(server.exception_seen.wait(), 5)
    await wait_until(lambda: "late" not in server.application_instances)
    checker.cancel()
    await asyncio.wait({checker})
    assert server.checker_cancelled.is_set()


async def test_arun_propagates_handle_exceptions() -> None:
    server = OneShot(answering_app, error=BrokenPipeError("handle failed"))
    before = asyncio.all_tasks()
    with pytest.raises(BrokenPipeError, match="handle failed"):
        await server.arun()
    for task in asyncio.all_tasks() - before:
        task.cancel()
        await asyncio.wait({task})

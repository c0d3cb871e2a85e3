"""LifespanManager against hand-written ASGI applications."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.testing import HttpTester, LifespanFailure, LifespanManager, ProtocolViolation

pytestmark = pytest.mark.anyio

Receive = Any
Send = Any


def lifespan_app(
    events: list[str], *, startup_failure: str | None = None, shutdown_failure: str | None = None
) -> Any:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": scope["state"]["greeting"].encode()})
            return
        assert scope["type"] == "lifespan"
        message = await receive()
        events.append(message["type"])
        if startup_failure is not None:
            await send({"type": "lifespan.startup.failed", "message": startup_failure})
            return
        scope["state"]["greeting"] = "hello from startup"
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        events.append(message["type"])
        if shutdown_failure is not None:
            await send({"type": "lifespan.shutdown.failed", "message": shutdown_failure})
        else:
            await send({"type": "lifespan.shutdown.complete"})
        events.append("returned")

    return app


async def test_startup_on_enter_shutdown_on_exit_and_state() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    async with LifespanManager(app, validate=True) as lifespan:
        assert events == ["lifespan.startup"]
        assert lifespan.state == {"greeting": "hello from startup"}
        response = await HttpTester(app, state=lifespan.state, validate=True).get("/")
        assert response.body == b"hello from startup"
    assert events == ["lifespan.startup", "lifespan.shutdown", "returned"]


async def test_startup_failure_is_raised_with_the_message() -> None:
    with pytest.raises(LifespanFailure) as caught:
        async with LifespanManager(lifespan_app([], startup_failure="database is down")):
            pytest.fail("the block must not run when startup failed")
    assert caught.value.phase == "startup"
    assert caught.value.message == "database is down"
    assert str(caught.value) == "lifespan startup failed: database is down"


async def test_shutdown_failure_is_raised_with_the_message() -> None:
    events: list[str] = []
    with pytest.raises(LifespanFailure, match=r"^lifespan shutdown failed: pool would not close$"):
        async with LifespanManager(lifespan_app(events, shutdown_failure="pool would not close")):
            pass
    assert events[-1] == "returned"


async def test_failure_without_message() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed"})

    with pytest.raises(LifespanFailure, match=r"^lifespan startup failed$"):
        async with LifespanManager(app):
            pass


async def test_exception_after_reporting_failure_is_the_cause() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no config"})
        raise FileNotFoundError("settings.toml")

    with pytest.raises(LifespanFailure) as caught:
        async with LifespanManager(app):
            pass
    assert isinstance(caught.value.__cause__, FileNotFoundError)


async def test_application_without_lifespan_support_raises_its_error() -> None:
    async def http_only(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"unsupported scope type {scope['type']}")

    with pytest.raises(ValueError, match="unsupported scope type lifespan"):
        async with LifespanManager(http_only):
            pass


async def test_shutdown_runs_when_the_block_fails() -> None:
    events: list[str] = []
    with pytest.raises(KeyError, match="test failure"):
        async with LifespanManager(lifespan_app(events)):
            raise KeyError("test failure")
    assert events == ["lifespan.startup", "lifespan.shutdown", "returned"]


async def test_validation_names_the_broken_rule() -> None:
    async def eager(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "lifespan.startup.complete"})
        await receive()

    with pytest.raises(
        ProtocolViolation, match=r"before the application received 'lifespan.startup'"
    ):
        async with LifespanManager(eager, validate=True):
            pass


async def test_unexpected_reply_is_reported() -> None:
    async def confused(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    with pytest.raises(
        ProtocolViolation,
        match=(
            r"expected 'lifespan.startup.complete' or 'lifespan.startup.failed',"
            r" got 'lifespan.shutdown.complete'"
        ),
    ):
        async with LifespanManager(confused):
            pass


async def test_a_manager_is_entered_once() -> None:
    manager = LifespanManager(lifespan_app([]))
    async with manager:
        pass
    with pytest.raises(RuntimeError, match="already entered"):
        async with manager:
            pass

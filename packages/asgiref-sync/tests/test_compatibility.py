"""asgiref.compatibility: telling ASGI 2 from ASGI 3 applications, and adapting."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.compatibility import (
    double_to_single_callable,
    guarantee_single_callable,
    is_double_callable,
)
from asgiref.sync import markcoroutinefunction

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def single_app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await send({"type": "seen", "scope": scope})


def double_app(scope: dict[str, Any]) -> Callable[[Receive, Send], Awaitable[str]]:
    async def instance(receive: Receive, send: Send) -> str:
        await send({"type": "seen", "scope": scope})
        return "instance result"

    return instance


class DoubleClass:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        await send({"type": "seen", "scope": self.scope})


class SyncCallReturningInner:
    def __call__(self, scope: dict[str, Any]) -> Callable[[Receive, Send], Awaitable[str]]:
        return double_app(scope)


class AsyncCallInstance:
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "seen", "scope": scope})


def marked_single(scope: dict[str, Any], receive: Receive, send: Send) -> Awaitable[None]:
    return single_app(scope, receive, send)


markcoroutinefunction(marked_single)


def flagged_double(scope: dict[str, Any]) -> Any:
    return double_app(scope)


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        pytest.param(double_app, True, id="closure-returning function"),
        pytest.param(DoubleClass, True, id="class with async __call__"),
        pytest.param(SyncCallReturningInner(), True, id="instance with sync __call__"),
        pytest.param(single_app, False, id="async def app"),
        pytest.param(AsyncCallInstance(), False, id="instance with async __call__"),
        pytest.param(double_to_single_callable(double_app), False, id="adapted"),
        pytest.param(functools.partial(single_app), False, id="partial of async def"),
        pytest.param(marked_single, False, id="markcoroutinefunction marker"),
    ],
)
def test_is_double_callable(application: object, expected: bool) -> None:
    assert is_double_callable(application) is expected


def test_explicit_flags_win_over_inspection() -> None:
    # A class would be double-callable by inspection; the single flag overrides it.
    class Flagged(DoubleClass):
        _asgi_single_callable = True

    assert is_double_callable(Flagged) is False
    # An async function would be single-callable; the double flag overrides it.
    single_app_copy = functools.partial(single_app)
    single_app_copy._asgi_double_callable = True  # type: ignore[attr-defined]
    assert is_double_callable(single_app_copy) is True
    # The single flag is checked first when both are set.
    single_app_copy._asgi_single_callable = True  # type: ignore[attr-defined]
    assert is_double_callable(single_app_copy) is False


def test_guarantee_returns_single_callables_unchanged() -> None:
    assert guarantee_single_callable(single_app) is single_app
    instance = AsyncCallInstance()
    assert guarantee_single_callable(instance) is instance


@pytest.mark.anyio
async def test_adapted_double_callable_runs_with_keywords() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "never"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = guarantee_single_callable(double_app)
    assert id(app) != id(double_app)  # a new adapter, not the ASGI 2 app itself
    # StatelessServer calls applications with keyword arguments.
    result = await app(scope={"type": "http"}, receive=receive, send=send)
    assert result == "instance result"
    assert sent == [{"type": "seen", "scope": {"type": "http"}}]


@pytest.mark.anyio
async def test_adapted_class_is_constructed_with_the_scope() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "never"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await guarantee_single_callable(DoubleClass)({"type": "websocket"}, receive, send)
    assert sent == [{"type": "seen", "scope": {"type": "websocket"}}]


@pytest.mark.anyio
async def test_errors_from_the_application_propagate() -> None:
    def broken(scope: dict[str, Any]) -> Any:
        raise LookupError(scope["type"])

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: dict[str, Any]) -> None:
        return None

    with pytest.raises(LookupError, match="http"):
        await guarantee_single_callable(broken)({"type": "http"}, receive, send)


@pytest.mark.anyio
async def test_bad_input_is_reported_when_called() -> None:
    # Not callable: judged double-callable (nothing says otherwise), and calling it fails
    # with Python's own clear TypeError rather than hanging or passing silently.
    adapted = guarantee_single_callable(42)  # type: ignore[arg-type]

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: dict[str, Any]) -> None:
        return None

    with pytest.raises(TypeError, match="not callable"):
        await adapted({"type": "http"}, receive, send)


def test_public_module_names() -> None:
    for function in (is_double_callable, double_to_single_callable, guarantee_single_callable):
        assert function.__module__ == "asgiref.compatibility"

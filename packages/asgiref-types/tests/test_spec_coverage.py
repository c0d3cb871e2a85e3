"""asgiref.typing beyond the published module: per-protocol unions, spec-optional keys."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Any, get_args, get_origin

import asgiref.typing as asgi_typing
import pytest

# Every message of the spec and of its extensions, by protocol and direction.
PER_PROTOCOL: dict[str, tuple[str, ...]] = {
    "HTTPReceiveMessage": ("HTTPRequestEvent", "HTTPDisconnectEvent"),
    "HTTPSendMessage": (
        "HTTPResponseStartEvent",
        "HTTPResponseBodyEvent",
        "HTTPResponseTrailersEvent",
        "HTTPServerPushEvent",
        "HTTPResponseZerocopysendEvent",
        "HTTPResponsePathsendEvent",
        "HTTPResponseEarlyHintEvent",
        "HTTPResponseDebugEvent",
    ),
    "WebSocketReceiveMessage": (
        "WebSocketConnectEvent",
        "WebSocketReceiveEvent",
        "WebSocketDisconnectEvent",
    ),
    "WebSocketSendMessage": (
        "WebSocketAcceptEvent",
        "WebSocketSendEvent",
        "WebSocketCloseEvent",
        "WebSocketResponseStartEvent",
        "WebSocketResponseBodyEvent",
    ),
    "LifespanReceiveMessage": ("LifespanStartupEvent", "LifespanShutdownEvent"),
    "LifespanSendMessage": (
        "LifespanStartupCompleteEvent",
        "LifespanStartupFailedEvent",
        "LifespanShutdownCompleteEvent",
        "LifespanShutdownFailedEvent",
    ),
}

CALLABLES = {
    "HTTPReceiveCallable": ("receive", "HTTPReceiveMessage"),
    "HTTPSendCallable": ("send", "HTTPSendMessage"),
    "WebSocketReceiveCallable": ("receive", "WebSocketReceiveMessage"),
    "WebSocketSendCallable": ("send", "WebSocketSendMessage"),
    "LifespanReceiveCallable": ("receive", "LifespanReceiveMessage"),
    "LifespanSendCallable": ("send", "LifespanSendMessage"),
}


def public(name: str) -> Any:
    value: Any = getattr(asgi_typing, name)
    return value


def type_literal(typeddict: Any) -> str:
    (literal,) = get_args(typing.get_type_hints(typeddict)["type"])
    value: str = literal
    return value


@pytest.mark.parametrize("name", [*PER_PROTOCOL, *CALLABLES])
@pytest.mark.ours_only("types-per-protocol")
def test_new_names_import_and_stay_out_of_all(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from asgiref.typing import {name}", namespace)
    assert namespace[name] is public(name)
    assert name not in asgi_typing.__all__


@pytest.mark.parametrize("name", sorted(PER_PROTOCOL))
@pytest.mark.ours_only("types-per-protocol")
def test_per_protocol_union_members(name: str) -> None:
    union = public(name)
    assert get_origin(union) is typing.Union
    assert get_args(union) == tuple(public(member) for member in PER_PROTOCOL[name])


@pytest.mark.parametrize("name", sorted(PER_PROTOCOL))
@pytest.mark.ours_only("types-per-protocol")
def test_per_protocol_unions_carry_their_protocol_types(name: str) -> None:
    prefix = {"HTTP": "http.", "WebSocket": "websocket.", "Lifespan": "lifespan."}
    (expected,) = [value for key, value in prefix.items() if name.startswith(key)]
    for member in get_args(public(name)):
        assert type_literal(member).startswith(expected)


@pytest.mark.ours_only("types-per-protocol")
def test_unions_cover_each_message_type_once() -> None:
    receive = [m for n, ms in PER_PROTOCOL.items() if "Receive" in n for m in ms]
    send = [m for n, ms in PER_PROTOCOL.items() if "Send" in n for m in ms]
    assert len(set(receive + send)) == len(receive) + len(send)
    # ASGIReceiveEvent already held every receive message; ASGISendEvent now holds every
    # send message (plus HTTPDisconnectEvent, kept from the published union).
    assert set(get_args(asgi_typing.ASGIReceiveEvent)) == {public(m) for m in receive}
    assert set(get_args(asgi_typing.ASGISendEvent)) == {public(m) for m in send} | {
        asgi_typing.HTTPDisconnectEvent
    }


@pytest.mark.parametrize("name", sorted(CALLABLES))
@pytest.mark.ours_only("types-per-protocol")
def test_per_protocol_callables(name: str) -> None:
    direction, union_name = CALLABLES[name]
    union = public(union_name)
    callable_alias = public(name)
    assert get_origin(callable_alias) is Callable
    parameters, result = get_args(callable_alias)
    assert get_origin(result) is Awaitable
    if direction == "receive":
        assert (parameters, get_args(result)) == ([], (union,))
    else:
        assert (parameters, get_args(result)) == ([union], (None,))


# Which spec-optional keys a writer may leave out (spec 80 §2-§6).
SENT_WITHOUT_OPTIONAL_KEYS: list[tuple[str, dict[str, object]]] = [
    ("HTTPResponseStartEvent", {"type": "http.response.start", "status": 200}),
    ("HTTPResponseBodyEvent", {"type": "http.response.body"}),
    ("HTTPResponseTrailersEvent", {"type": "http.response.trailers", "headers": []}),
    ("WebSocketAcceptEvent", {"type": "websocket.accept"}),
    ("WebSocketResponseStartEvent", {"type": "websocket.http.response.start", "status": 403}),
    ("WebSocketResponseBodyEvent", {"type": "websocket.http.response.body"}),
    ("HTTPResponseZerocopysendEvent", {"type": "http.response.zerocopysend", "file": None}),
]


@pytest.mark.parametrize(("name", "message"), SENT_WITHOUT_OPTIONAL_KEYS)
@pytest.mark.ours_only("types-sent-optional-keys")
def test_sent_messages_need_only_the_spec_required_keys(
    name: str, message: dict[str, object]
) -> None:
    assert public(name).__required_keys__ == set(message)


# Optional in the spec, kept required for code that reads them (module docstring).
KEPT_REQUIRED = {
    "ASGIVersions": {"spec_version"},
    "HTTPScope": {"scheme", "raw_path", "root_path", "client", "server", "extensions"},
    "WebSocketScope": {
        "http_version",
        "scheme",
        "raw_path",
        "query_string",
        "root_path",
        "client",
        "server",
        "subprotocols",
        "extensions",
    },
    "HTTPRequestEvent": {"body", "more_body"},
    "WebSocketReceiveEvent": {"bytes", "text"},
    "WebSocketDisconnectEvent": {"reason"},
    "WebSocketSendEvent": {"bytes", "text"},
    "WebSocketCloseEvent": {"code", "reason"},
    "LifespanStartupFailedEvent": {"message"},
    "LifespanShutdownFailedEvent": {"message"},
}


@pytest.mark.parametrize("name", sorted(KEPT_REQUIRED))
def test_keys_kept_required_for_compatibility(name: str) -> None:
    assert KEPT_REQUIRED[name] <= public(name).__required_keys__


@pytest.mark.ours_only("types-lifespan-extensions")
def test_lifespan_scope_carries_extensions_and_state() -> None:
    scope = asgi_typing.LifespanScope
    assert scope.__optional_keys__ == {"state", "extensions"}
    assert set(typing.get_type_hints(scope)) == {"type", "asgi", "state", "extensions"}

"""Runtime shape of asgiref.typing: names, order, keys and field types as published."""

from __future__ import annotations

import subprocess
import sys
import typing
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import asgiref.typing as asgi_typing
import pytest

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:
    from typing_extensions import NotRequired

PUBLISHED_ALL = [
    "ASGIVersions",
    "HTTPScope",
    "WebSocketScope",
    "LifespanScope",
    "WWWScope",
    "Scope",
    "HTTPRequestEvent",
    "HTTPResponseStartEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent",
    "HTTPResponsePathsendEvent",
    "HTTPServerPushEvent",
    "HTTPDisconnectEvent",
    "WebSocketConnectEvent",
    "WebSocketAcceptEvent",
    "WebSocketReceiveEvent",
    "WebSocketSendEvent",
    "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketDisconnectEvent",
    "WebSocketCloseEvent",
    "LifespanStartupEvent",
    "LifespanShutdownEvent",
    "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent",
    "LifespanShutdownCompleteEvent",
    "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent",
    "ASGISendEvent",
    "ASGIReceiveCallable",
    "ASGISendCallable",
    "ASGI2Protocol",
    "ASGI2Application",
    "ASGI3Application",
    "ASGIApplication",
]

# Importable, deliberately not in __all__: the first as in the published asgiref, the
# others model extensions the published asgiref leaves out.
EXTENSIONS = ["HTTPResponseZerocopysendEvent", "HTTPResponseEarlyHintEvent", "TLSExtension"]
UNLISTED = ["HTTPResponseDebugEvent", *EXTENSIONS]
OURS_ONLY_EXTENSION = pytest.mark.ours_only("types-extension-names")


# Types whose fields differ from the published ones, with the DEVIATIONS.md entry saying why.
CHANGED_FIELDS = {
    "HTTPResponseStartEvent": "types-sent-optional-keys",
    "HTTPResponseBodyEvent": "types-sent-optional-keys",
    "HTTPResponseTrailersEvent": "types-sent-optional-keys",
    "WebSocketAcceptEvent": "types-sent-optional-keys",
    "WebSocketResponseBodyEvent": "types-sent-optional-keys",
    "WebSocketResponseStartEvent": "types-denial-trailers",
    "LifespanScope": "types-lifespan-extensions",
}


def field_cases(names: list[str]) -> list[Any]:
    """``names`` as parametrize cases; the types whose fields we changed are ours only."""
    return [
        pytest.param(n, marks=pytest.mark.ours_only(CHANGED_FIELDS[n]))
        if n in CHANGED_FIELDS
        else n
        for n in names
    ]


def cases(names: list[str]) -> list[Any]:
    """``names`` as parametrize cases; the extension types exist only here."""
    return [pytest.param(n, marks=OURS_ONLY_EXTENSION) if n in EXTENSIONS else n for n in names]


HEADERS = Iterable[tuple[bytes, bytes]]
STATE = NotRequired[dict[str, Any]]
ASGI_VERSIONS = asgi_typing.ASGIVersions

# Every field, in declaration order, with its declared type (spec 70 §2.1-2.2).
FIELDS: dict[str, dict[str, object]] = {
    "ASGIVersions": {"spec_version": str, "version": Literal["2.0"] | Literal["3.0"]},
    "HTTPScope": {
        "type": Literal["http"],
        "asgi": ASGI_VERSIONS,
        "http_version": str,
        "method": str,
        "scheme": str,
        "path": str,
        "raw_path": bytes,
        "query_string": bytes,
        "root_path": str,
        "headers": HEADERS,
        "client": tuple[str, int] | None,
        "server": tuple[str, int | None] | None,
        "state": STATE,
        "extensions": dict[str, dict[object, object]] | None,
    },
    "WebSocketScope": {
        "type": Literal["websocket"],
        "asgi": ASGI_VERSIONS,
        "http_version": str,
        "scheme": str,
        "path": str,
        "raw_path": bytes,
        "query_string": bytes,
        "root_path": str,
        "headers": HEADERS,
        "client": tuple[str, int] | None,
        "server": tuple[str, int | None] | None,
        "subprotocols": Iterable[str],
        "state": STATE,
        "extensions": dict[str, dict[object, object]] | None,
    },
    "LifespanScope": {
        "type": Literal["lifespan"],
        "asgi": ASGI_VERSIONS,
        "state": STATE,
        "extensions": NotRequired[dict[str, dict[object, object]] | None],
    },
    "HTTPRequestEvent": {"type": Literal["http.request"], "body": bytes, "more_body": bool},
    "HTTPResponseDebugEvent": {
        "type": Literal["http.response.debug"],
        "info": dict[str, object],
    },
    "HTTPResponseStartEvent": {
        "type": Literal["http.response.start"],
        "status": int,
        "headers": NotRequired[HEADERS],
        "trailers": NotRequired[bool],
    },
    "HTTPResponseBodyEvent": {
        "type": Literal["http.response.body"],
        "body": NotRequired[bytes],
        "more_body": NotRequired[bool],
    },
    "HTTPResponseTrailersEvent": {
        "type": Literal["http.response.trailers"],
        "headers": HEADERS,
        "more_trailers": NotRequired[bool],
    },
    "HTTPResponsePathsendEvent": {"type": Literal["http.response.pathsend"], "path": str},
    "HTTPServerPushEvent": {
        "type": Literal["http.response.push"],
        "path": str,
        "headers": HEADERS,
    },
    "HTTPDisconnectEvent": {"type": Literal["http.disconnect"]},
    "WebSocketConnectEvent": {"type": Literal["websocket.connect"]},
    "WebSocketAcceptEvent": {
        "type": Literal["websocket.accept"],
        "subprotocol": NotRequired[str | None],
        "headers": NotRequired[HEADERS],
    },
    "WebSocketReceiveEvent": {
        "type": Literal["websocket.receive"],
        "bytes": bytes | None,
        "text": str | None,
    },
    "WebSocketSendEvent": {
        "type": Literal["websocket.send"],
        "bytes": bytes | None,
        "text": str | None,
    },
    "WebSocketResponseStartEvent": {
        "type": Literal["websocket.http.response.start"],
        "status": int,
        "headers": NotRequired[HEADERS],
        "trailers": NotRequired[bool],
    },
    "WebSocketResponseBodyEvent": {
        "type": Literal["websocket.http.response.body"],
        "body": NotRequired[bytes],
        "more_body": NotRequired[bool],
    },
    "WebSocketDisconnectEvent": {
        "type": Literal["websocket.disconnect"],
        "code": int,
        "reason": str | None,
    },
    "WebSocketCloseEvent": {
        "type": Literal["websocket.close"],
        "code": int,
        "reason": str | None,
    },
    "LifespanStartupEvent": {"type": Literal["lifespan.startup"]},
    "LifespanShutdownEvent": {"type": Literal["lifespan.shutdown"]},
    "LifespanStartupCompleteEvent": {"type": Literal["lifespan.startup.complete"]},
    "LifespanStartupFailedEvent": {"type": Literal["lifespan.startup.failed"], "message": str},
    "LifespanShutdownCompleteEvent": {"type": Literal["lifespan.shutdown.complete"]},
    "LifespanShutdownFailedEvent": {"type": Literal["lifespan.shutdown.failed"], "message": str},
}

# Spec-optional keys of the messages an application sends are NotRequired; the module
# docstring says which optional keys stay required, and why.
OPTIONAL_KEYS = {
    "HTTPScope": {"state"},
    "WebSocketScope": {"state"},
    "LifespanScope": {"state", "extensions"},
    "HTTPResponseStartEvent": {"headers", "trailers"},
    "HTTPResponseBodyEvent": {"body", "more_body"},
    "HTTPResponseTrailersEvent": {"more_trailers"},
    "WebSocketAcceptEvent": {"subprotocol", "headers"},
    "WebSocketResponseStartEvent": {"headers", "trailers"},
    "WebSocketResponseBodyEvent": {"body", "more_body"},
}


def public(name: str) -> Any:
    value: Any = getattr(asgi_typing, name)
    return value


def test_all_names_the_published_list_in_order() -> None:
    assert list(asgi_typing.__all__) == PUBLISHED_ALL


def test_all_is_the_published_tuple_in_order() -> None:
    assert asgi_typing.__all__ == tuple(PUBLISHED_ALL)


@pytest.mark.parametrize("name", cases(PUBLISHED_ALL + UNLISTED))
def test_every_name_imports_from_the_public_path(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from asgiref.typing import {name}", namespace)
    assert namespace[name] is getattr(asgi_typing, name)


@pytest.mark.parametrize("name", UNLISTED)
def test_unlisted_names_stay_out_of_all(name: str) -> None:
    assert name not in asgi_typing.__all__


def test_every_typeddict_is_described() -> None:
    # The extension types are described in test_extension_types_beyond_the_published_module.
    described = [*PUBLISHED_ALL, "HTTPResponseDebugEvent"]
    typeddicts = {name for name in described if hasattr(public(name), "__required_keys__")}
    assert typeddicts == set(FIELDS)


@pytest.mark.parametrize("name", field_cases(sorted(FIELDS)))
def test_fields_in_order_with_their_types(name: str) -> None:
    annotations = public(name).__annotations__
    assert list(annotations) == list(FIELDS[name])
    assert annotations == FIELDS[name]


@pytest.mark.parametrize("name", field_cases(sorted(FIELDS)))
def test_required_and_optional_keys(name: str) -> None:
    typeddict = public(name)
    optional = OPTIONAL_KEYS.get(name, set())
    assert typeddict.__optional_keys__ == optional
    assert typeddict.__required_keys__ == set(FIELDS[name]) - optional


def test_http_scope_state_is_the_only_optional_key() -> None:
    # Spelled out for the key that matters most: servers omit "state" without lifespan.
    assert asgi_typing.HTTPScope.__optional_keys__ == frozenset({"state"})
    assert "state" not in asgi_typing.HTTPScope.__required_keys__
    assert "method" in asgi_typing.HTTPScope.__required_keys__
    assert asgi_typing.LifespanScope.__required_keys__ == frozenset({"type", "asgi"})
    assert asgi_typing.HTTPRequestEvent.__required_keys__ == {"type", "body", "more_body"}


@pytest.mark.parametrize("name", field_cases(sorted(FIELDS)))
def test_get_type_hints_resolves(name: str) -> None:
    hints = typing.get_type_hints(public(name))
    assert set(hints) == set(FIELDS[name])


CLASSES = [*FIELDS, "ASGI2Protocol", *UNLISTED[1:]]


@pytest.mark.parametrize("name", cases(CLASSES))
def test_classes_report_the_public_module(name: str) -> None:
    assert public(name).__module__ == "asgiref.typing"


def test_typeddicts_build_plain_dicts() -> None:
    event = asgi_typing.HTTPRequestEvent(type="http.request", body=b"x", more_body=False)
    assert type(event) is dict
    assert event == {"type": "http.request", "body": b"x", "more_body": False}


def test_scope_aliases() -> None:
    assert get_origin(asgi_typing.WWWScope) is Union
    assert get_args(asgi_typing.WWWScope) == (asgi_typing.HTTPScope, asgi_typing.WebSocketScope)
    assert get_origin(asgi_typing.Scope) is Union
    assert get_args(asgi_typing.Scope) == (
        asgi_typing.HTTPScope,
        asgi_typing.WebSocketScope,
        asgi_typing.LifespanScope,
    )


def test_receive_event_union() -> None:
    assert get_origin(asgi_typing.ASGIReceiveEvent) is Union
    assert get_args(asgi_typing.ASGIReceiveEvent) == (
        asgi_typing.HTTPRequestEvent,
        asgi_typing.HTTPDisconnectEvent,
        asgi_typing.WebSocketConnectEvent,
        asgi_typing.WebSocketReceiveEvent,
        asgi_typing.WebSocketDisconnectEvent,
        asgi_typing.LifespanStartupEvent,
        asgi_typing.LifespanShutdownEvent,
    )


@pytest.mark.ours_only("types-send-union-complete")
def test_send_event_union_keeps_its_published_members_first() -> None:
    members = get_args(asgi_typing.ASGISendEvent)
    assert members[:14] == (
        asgi_typing.HTTPResponseStartEvent,
        asgi_typing.HTTPResponseBodyEvent,
        asgi_typing.HTTPResponseTrailersEvent,
        asgi_typing.HTTPServerPushEvent,
        asgi_typing.HTTPDisconnectEvent,
        asgi_typing.WebSocketAcceptEvent,
        asgi_typing.WebSocketSendEvent,
        asgi_typing.WebSocketResponseStartEvent,
        asgi_typing.WebSocketResponseBodyEvent,
        asgi_typing.WebSocketCloseEvent,
        asgi_typing.LifespanStartupCompleteEvent,
        asgi_typing.LifespanStartupFailedEvent,
        asgi_typing.LifespanShutdownCompleteEvent,
        asgi_typing.LifespanShutdownFailedEvent,
    )
    # The published oddity kept on purpose; the send events it left out follow.
    assert asgi_typing.HTTPDisconnectEvent in members
    assert members[14:] == (
        asgi_typing.HTTPResponsePathsendEvent,
        asgi_typing.HTTPResponseDebugEvent,
        asgi_typing.HTTPResponseZerocopysendEvent,
        asgi_typing.HTTPResponseEarlyHintEvent,
    )


def test_callables_and_applications() -> None:
    receive_event: Any = asgi_typing.ASGIReceiveEvent
    send_event: Any = asgi_typing.ASGISendEvent
    receive: Any = asgi_typing.ASGIReceiveCallable
    send: Any = asgi_typing.ASGISendCallable
    scope: Any = asgi_typing.Scope
    assert receive == Callable[[], Awaitable[receive_event]]
    assert send == Callable[[send_event], Awaitable[None]]
    assert asgi_typing.ASGI3Application == Callable[[scope, receive, send], Awaitable[None]]
    assert asgi_typing.ASGI2Application == type[asgi_typing.ASGI2Protocol]
    assert get_origin(asgi_typing.ASGIApplication) is Union
    assert get_args(asgi_typing.ASGIApplication) == (
        asgi_typing.ASGI2Application,
        asgi_typing.ASGI3Application,
    )


def test_asgi2_protocol_shape() -> None:
    protocol: Any = asgi_typing.ASGI2Protocol
    assert issubclass(protocol, typing.Protocol)
    # Not runtime_checkable, as published: it exists for type checkers only.
    with pytest.raises(TypeError, match="runtime_checkable"):
        isinstance(object(), protocol)
    assert typing.get_type_hints(protocol.__call__) == {
        "receive": asgi_typing.ASGIReceiveCallable,
        "send": asgi_typing.ASGISendCallable,
        "return": type(None),
    }


@OURS_ONLY_EXTENSION
def test_extension_types_beyond_the_published_module() -> None:
    zerocopy = asgi_typing.HTTPResponseZerocopysendEvent
    assert list(zerocopy.__annotations__) == ["type", "file", "offset", "count", "more_body"]
    assert zerocopy.__optional_keys__ == frozenset({"offset", "count", "more_body"})
    early_hint = asgi_typing.HTTPResponseEarlyHintEvent
    assert early_hint.__annotations__ == {
        "type": Literal["http.response.early_hint"],
        "links": Iterable[bytes],
    }
    tls = asgi_typing.TLSExtension
    assert tls.__required_keys__ == frozenset({"server_cert", "tls_version", "cipher_suite"})
    assert tls.__optional_keys__ == frozenset(
        {"client_cert_chain", "client_cert_name", "client_cert_error"}
    )


def test_imports_no_other_asgiref_portion(tmp_path: Path) -> None:
    # A fresh interpreter, so modules other tests imported do not count.
    probe = (
        "import sys, asgiref.typing\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] == 'asgiref')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=30,
    )
    loaded = set(result.stdout.split())
    assert "asgiref.typing" in loaded
    assert loaded <= {
        "asgiref",
        "asgiref.typing",
        "asgiref.typing._asgi",
        "asgiref.typing._extensions",
        "asgiref.typing._per_protocol",
    }

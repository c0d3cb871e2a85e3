"""Checking scopes and application messages against the ASGI specification.

The rules follow ASGI 3.0, the HTTP and WebSocket message format 2.5, lifespan 2.0
and the extensions page.  Each check names the rule it enforces, so a failing test
says exactly what the application did wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, ClassVar, cast

__all__ = [
    "MessageValidator",
    "ProtocolViolation",
    "as_message",
    "bytes_field",
    "check_scope",
    "header_pairs",
    "typed_message",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# RFC 9110 token characters, upper-case letters only.
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Z]+")
# Deeper nesting than this in one message is almost certainly a reference cycle.
_MAX_DEPTH = 64


class ProtocolViolation(AssertionError):
    """A scope, or what an application did, breaks the ASGI specification.

    ``index`` is the 1-based position of the offending message among those the
    application sent (None when no single message is at fault: a bad scope, or an
    application that returned too early), ``message_type`` its ``type`` when it has
    a usable one, and ``rule`` the broken rule in words.
    """

    def __init__(
        self,
        rule: str,
        *,
        index: int | None = None,
        message_type: str | None = None,
        context: str = "ASGI protocol violation",
    ) -> None:
        self.rule = rule
        self.index = index
        self.message_type = message_type
        if index is None:
            text = f"{context}: {rule}"
        elif message_type is None:
            text = f"ASGI message #{index} sent by the application: {rule}"
        else:
            text = f"ASGI message #{index} sent by the application ({message_type!r}): {rule}"
        super().__init__(text)


class _Broken(Exception):
    """Internal: one rule failed; the validator turns it into a ProtocolViolation."""


def _kind(value: object) -> str:
    return type(value).__name__


def _is_int(value: object) -> bool:
    # bool is an int subclass but never a valid status, code or offset.
    return isinstance(value, int) and not isinstance(value, bool)


def _sequence(value: object) -> Sequence[object] | None:
    """``value`` if it is a list or tuple (the ASGI sequence types), else None."""
    if isinstance(value, (list, tuple)):
        return cast("Sequence[object]", value)
    return None


def _mapping(value: object) -> dict[object, object] | None:
    """``value`` if it is a dict, else None."""
    if isinstance(value, dict):
        return cast("dict[object, object]", value)
    return None


def as_message(value: object) -> dict[str, Any] | None:
    """``value`` typed as a message when it is a dict (keys unchecked), else None."""
    if isinstance(value, dict):
        return cast("dict[str, Any]", value)
    return None


def typed_message(message: object, index: int) -> tuple[str, dict[str, Any]]:
    """Split a message a helper received into its type and body.

    Helpers need at least a dict with a str ``type`` to go on, validating or not.
    """
    checked = as_message(message)
    kind = checked.get("type") if checked is not None else None
    if checked is None or not isinstance(kind, str):
        raise ProtocolViolation(f"expected a dict with a str 'type', got {message!r}", index=index)
    return kind, checked


def header_pairs(value: object, index: int, kind: str) -> list[tuple[bytes, bytes]]:
    """A message's headers as a list of byte pairs (missing means none)."""
    try:
        _check_headers([] if value is None else value, "'headers'", response=False)
    except _Broken as broken:
        raise ProtocolViolation(str(broken), index=index, message_type=kind) from None
    checked = cast("Sequence[Sequence[bytes]]", value or [])
    return [(pair[0], pair[1]) for pair in checked]


def bytes_field(message: Mapping[str, Any], key: str, index: int) -> bytes:
    """A message's bytes field such as ``body`` (missing or None means empty)."""
    value = message.get(key)
    if value is None:
        return b""
    if not isinstance(value, bytes):
        raise ProtocolViolation(
            f"{key!r} must be bytes, got {_kind(value)} {value!r}",
            index=index,
            message_type=str(message.get("type")),
        )
    return value


# --------------------------------------------------------------------------- values


def _check_value(value: object, where: str, depth: int = 0) -> None:
    """Raise _Broken unless ``value`` is one of the types an ASGI message may carry."""
    if depth > _MAX_DEPTH:
        raise _Broken(f"{where} is nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, str, bytes)):
        return
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _Broken(f"{where} is {value}, outside the signed 64-bit range ASGI allows")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Broken(f"{where} is {value}; ASGI floats must be finite")
        return
    items = _sequence(value)
    if items is not None:
        for position, item in enumerate(items):
            _check_value(item, f"{where}[{position}]", depth + 1)
        return
    mapping = _mapping(value)
    if mapping is not None:
        for key, item in mapping.items():
            if not isinstance(key, str):
                raise _Broken(f"{where} has the non-str key {key!r}; ASGI dict keys are str")
            _check_value(item, f"{where}[{key!r}]", depth + 1)
        return
    raise _Broken(f"{where} is a {_kind(value)}, which is not an ASGI value type")


def _check_headers(value: object, where: str, *, response: bool) -> list[bytes]:
    """Check a headers value; return the header names."""
    pairs = _sequence(value)
    if pairs is None:
        raise _Broken(
            f"{where} must be a list of [name, value] byte-string pairs, got {_kind(value)}"
        )
    names: list[bytes] = []
    for position, pair in enumerate(pairs):
        parts = _sequence(pair)
        if parts is None or len(parts) != 2:
            parts = None
        name, data = parts if parts is not None else (None, None)
        if not (isinstance(name, bytes) and isinstance(data, bytes)):
            raise _Broken(
                f"{where}[{position}] must be a [name, value] pair of byte strings, got {pair!r}"
            )
        names.append(name)
        if response and name != name.lower():
            raise _Broken(
                f"response header names must be lower-case: {where}[{position}] is {name!r}"
            )
    return names


def _optional(
    message: Mapping[str, Any], key: str, check: Callable[[object], bool], wanted: str
) -> None:
    if key in message and not check(message[key]):
        raise _Broken(f"{key!r} must be {wanted}, got {_kind(message[key])} {message[key]!r}")


def _required(
    message: Mapping[str, Any], key: str, check: Callable[[object], bool], wanted: str
) -> None:
    if key not in message:
        raise _Broken(f"{key!r} is required")
    _optional(message, key, check, wanted)


def _is_bytes(value: object) -> bool:
    return isinstance(value, bytes)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_bytes_or_none(value: object) -> bool:
    return value is None or isinstance(value, bytes)


def _check_status(message: Mapping[str, Any]) -> None:
    _required(message, "status", _is_int, "an int")
    if not 100 <= message["status"] <= 599:
        raise _Broken(
            f"'status' must be an HTTP status code from 100 to 599, got {message['status']}"
        )


def _spec_version(scope: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The scope's ``asgi.spec_version`` as numbers; None when it cannot be read."""
    asgi = _mapping(scope.get("asgi"))
    text = asgi.get("spec_version", "2.0") if asgi is not None else "2.0"
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return None


def _extensions(scope: Mapping[str, Any]) -> frozenset[str]:
    extensions = _mapping(scope.get("extensions"))
    if extensions is None:
        return frozenset()
    return frozenset(name for name in extensions if isinstance(name, str))


# --------------------------------------------------------------------------- protocols


class _Protocol:
    """What one scope type allows an application to send, and in which order."""

    def received(self, message_type: object) -> None:
        """Note an event the application received (some rules depend on it)."""

    def sent(self, message: Mapping[str, Any]) -> None:
        """Raise _Broken if ``message`` may not be sent now; otherwise advance."""

    def returned(self) -> None:
        """Raise _Broken if the application may not have returned yet."""


class _HttpProtocol(_Protocol):
    # Message types that belong to an extension, and the extension's key.
    _EXTENSION_OF: ClassVar[dict[str, str]] = {
        "http.response.trailers": "http.response.trailers",
        "http.response.push": "http.response.push",
        "http.response.zerocopysend": "http.response.zerocopysend",
        "http.response.pathsend": "http.response.pathsend",
        "http.response.early_hint": "http.response.early_hint",
        "http.response.debug": "http.response.debug",
    }

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self._extensions = _extensions(scope)
        # "start" -> "body" (after the start) -> "trailers" (when announced) -> "complete"
        self._phase = "start"
        self._trailers = False
        self._body_sent = False
        self._debug_sent = False
        self._disconnected = False

    def received(self, message_type: object) -> None:
        if message_type == "http.disconnect":
            self._disconnected = True

    def returned(self) -> None:
        # Once the client is gone, stopping half-way through a response is fine.
        if self._disconnected or self._phase == "complete":
            return
        missing = {
            "start": "without sending 'http.response.start'",
            "body": "before the final 'http.response.body' (more_body=False)",
            "trailers": "before the last 'http.response.trailers' (more_trailers=False)",
        }[self._phase]
        raise _Broken(f"the application returned {missing}; the response is incomplete")

    def sent(self, message: Mapping[str, Any]) -> None:
        kind: str = message["type"]
        handler = {
            "http.response.start": self._start,
            "http.response.body": self._body,
            "http.response.trailers": self._trailer,
            "http.response.push": self._push,
            "http.response.zerocopysend": self._zerocopysend,
            "http.response.pathsend": self._pathsend,
            "http.response.early_hint": self._early_hint,
            "http.response.debug": self._debug,
        }.get(kind)
        if handler is None:
            raise _Broken(
                f"{kind!r} is not a message an application may send on an HTTP connection"
                " (expected 'http.response.start' or 'http.response.body')"
            )
        if self._phase == "complete":
            raise _Broken(
                "the response is already complete: nothing may be sent after the final"
                " body (more_body=False)"
            )
        extension = self._EXTENSION_OF.get(kind)
        if extension is not None and extension not in self._extensions:
            raise _Broken(
                f"{kind!r} needs the {extension!r} extension, which scope['extensions']"
                " does not advertise"
            )
        handler(message)

    def _require_started(self, kind: str) -> None:
        if self._phase == "start":
            raise _Broken(f"{kind!r} before 'http.response.start'")
        if self._phase == "trailers":
            raise _Broken(
                f"{kind!r} after the final body; only 'http.response.trailers' may follow"
            )

    def _finish_body(self) -> None:
        self._phase = "trailers" if self._trailers else "complete"

    def _start(self, message: Mapping[str, Any]) -> None:
        if self._phase != "start":
            raise _Broken("'http.response.start' was already sent for this response")
        _check_status(message)
        if "headers" in message:
            _check_headers(message["headers"], "'headers'", response=True)
        _optional(message, "trailers", _is_bool, "a bool")
        if message.get("trailers") and "http.response.trailers" not in self._extensions:
            raise _Broken(
                "trailers=True needs the 'http.response.trailers' extension, which"
                " scope['extensions'] does not advertise"
            )
        self._trailers = bool(message.get("trailers", False))
        self._phase = "body"

    def _body(self, message: Mapping[str, Any]) -> None:
        self._require_started("http.response.body")
        _optional(message, "body", _is_bytes, "bytes")
        _optional(message, "more_body", _is_bool, "a bool")
        self._body_sent = True
        if not message.get("more_body", False):
            self._finish_body()

    def _trailer(self, message: Mapping[str, Any]) -> None:
        if self._phase == "start":
            raise _Broken("'http.response.trailers' before 'http.response.start'")
        if not self._trailers:
            raise _Broken(
                "'http.response.trailers' but 'http.response.start' did not set trailers=True"
            )
        if self._phase != "trailers":
            raise _Broken("'http.response.trailers' before the final body (more_body=False)")
        if "headers" in message:
            _check_headers(message["headers"], "'headers'", response=True)
        _optional(message, "more_trailers", _is_bool, "a bool")
        if not message.get("more_trailers", False):
            self._phase = "complete"

    def _push(self, message: Mapping[str, Any]) -> None:
        self._require_started("http.response.push")
        _required(message, "path", _is_str, "a str")
        _required(message, "headers", lambda _: True, "")
        _check_headers(message["headers"], "'headers'", response=False)

    def _zerocopysend(self, message: Mapping[str, Any]) -> None:
        self._require_started("http.response.zerocopysend")
        _required(
            message, "file", lambda value: callable(getattr(value, "fileno", None)), "a file object"
        )
        _optional(message, "offset", lambda value: value is None or _is_int(value), "an int")
        _optional(message, "count", lambda value: value is None or _is_int(value), "an int")
        _optional(message, "more_body", _is_bool, "a bool")
        self._body_sent = True
        if not message.get("more_body", False):
            self._finish_body()

    def _pathsend(self, message: Mapping[str, Any]) -> None:
        self._require_started("http.response.pathsend")
        if self._body_sent:
            raise _Broken(
                "'http.response.pathsend' replaces the body, but body messages were already sent"
            )
        _required(message, "path", _is_str, "a str")
        path: str = message["path"]
        if not (PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()):
            raise _Broken(f"'path' must be an absolute path, got {path!r}")
        self._finish_body()

    def _early_hint(self, message: Mapping[str, Any]) -> None:
        self._require_started("http.response.early_hint")
        _required(message, "links", lambda _: True, "")
        links = _sequence(message["links"])
        if links is None or not all(isinstance(link, bytes) for link in links):
            raise _Broken(f"'links' must be a list of byte strings, got {links!r}")

    def _debug(self, message: Mapping[str, Any]) -> None:
        if self._phase != "start":
            raise _Broken("'http.response.debug' must come before 'http.response.start'")
        if self._debug_sent:
            raise _Broken("'http.response.debug' may be sent only once")
        _required(message, "info", lambda value: isinstance(value, dict), "a dict")
        self._debug_sent = True


class _WebSocketProtocol(_Protocol):
    def __init__(self, scope: Mapping[str, Any]) -> None:
        self._extensions = _extensions(scope)
        self._spec_version = _spec_version(scope)
        self._subprotocols = list(_sequence(scope.get("subprotocols")) or [])
        self._connect_received = False
        self._disconnected = False
        # "handshake" -> "open" -> "closed", or "handshake" -> "denial" -> "denied"
        self._phase = "handshake"

    def received(self, message_type: object) -> None:
        if message_type == "websocket.connect":
            self._connect_received = True
        elif message_type == "websocket.disconnect":
            self._disconnected = True

    def returned(self) -> None:
        if self._disconnected:
            return
        if self._phase == "handshake" and self._connect_received:
            raise _Broken(
                "the application returned without accepting or closing the WebSocket"
                " (send 'websocket.accept' or 'websocket.close')"
            )
        if self._phase == "denial":
            raise _Broken(
                "the application returned before the final 'websocket.http.response.body'"
                " (more_body=False)"
            )

    def _spec_below(self, version: tuple[int, ...]) -> bool:
        return self._spec_version is not None and self._spec_version < version

    def sent(self, message: Mapping[str, Any]) -> None:
        kind: str = message["type"]
        handler = {
            "websocket.accept": self._accept,
            "websocket.send": self._send,
            "websocket.close": self._close,
            "websocket.http.response.start": self._denial_start,
            "websocket.http.response.body": self._denial_body,
        }.get(kind)
        if handler is None:
            raise _Broken(
                f"{kind!r} is not a message an application may send on a WebSocket"
                " (expected 'websocket.accept', 'websocket.send' or 'websocket.close')"
            )
        if self._phase == "closed":
            raise _Broken(
                "the WebSocket is already closed by 'websocket.close'; nothing may follow it"
            )
        if self._phase == "denied":
            raise _Broken("the denial response is complete; nothing may follow it")
        handler(message)

    def _accept(self, message: Mapping[str, Any]) -> None:
        if self._phase == "open":
            raise _Broken("'websocket.accept' was already sent")
        if self._phase == "denial":
            raise _Broken("'websocket.accept' after a denial response was started")
        if not self._connect_received:
            raise _Broken("'websocket.accept' before the application received 'websocket.connect'")
        _optional(message, "subprotocol", _is_str_or_none, "a str or None")
        chosen = message.get("subprotocol")
        if chosen is not None and chosen not in self._subprotocols:
            raise _Broken(
                f"subprotocol {chosen!r} was not offered by the client"
                f" (scope['subprotocols'] is {self._subprotocols!r})"
            )
        names = _check_headers(message.get("headers") or [], "'headers'", response=True)
        if b"sec-websocket-protocol" in names:
            raise _Broken(
                "'headers' must not contain sec-websocket-protocol; set 'subprotocol' instead"
            )
        if names and self._spec_below((2, 1)):
            raise _Broken("'headers' on 'websocket.accept' needs ASGI spec_version 2.1 or later")
        self._phase = "open"

    def _send(self, message: Mapping[str, Any]) -> None:
        if self._phase != "open":
            raise _Broken("'websocket.send' before 'websocket.accept'")
        _optional(message, "bytes", _is_bytes_or_none, "bytes or None")
        _optional(message, "text", _is_str_or_none, "a str or None")
        present = [key for key in ("bytes", "text") if message.get(key) is not None]
        if len(present) != 1:
            raise _Broken(
                "exactly one of 'bytes' and 'text' must be set (not None),"
                f" got {' and '.join(present) if present else 'neither'}"
            )

    def _close(self, message: Mapping[str, Any]) -> None:
        if self._phase == "denial":
            raise _Broken("'websocket.close' while a denial response is being sent")
        _optional(message, "code", _is_int, "an int")
        _optional(message, "reason", _is_str_or_none, "a str or None")
        if message.get("reason") and self._spec_below((2, 3)):
            raise _Broken("'reason' on 'websocket.close' needs ASGI spec_version 2.3 or later")
        self._phase = "closed"

    def _denial_start(self, message: Mapping[str, Any]) -> None:
        if "websocket.http.response" not in self._extensions:
            raise _Broken(
                "'websocket.http.response.start' needs the 'websocket.http.response'"
                " extension, which scope['extensions'] does not advertise"
            )
        if self._phase == "open":
            raise _Broken("'websocket.http.response.start' after 'websocket.accept'")
        if self._phase == "denial":
            raise _Broken("'websocket.http.response.start' was already sent")
        _check_status(message)
        if "headers" in message:
            _check_headers(message["headers"], "'headers'", response=True)
        self._phase = "denial"

    def _denial_body(self, message: Mapping[str, Any]) -> None:
        if self._phase != "denial":
            raise _Broken("'websocket.http.response.body' before 'websocket.http.response.start'")
        _optional(message, "body", _is_bytes, "bytes")
        _optional(message, "more_body", _is_bool, "a bool")
        if not message.get("more_body", False):
            self._phase = "denied"


class _LifespanProtocol(_Protocol):
    def __init__(self) -> None:
        self._startup_received = False
        self._shutdown_received = False
        self._startup_answered = False
        self._shutdown_answered = False
        self._startup_failed = False

    def received(self, message_type: object) -> None:
        if message_type == "lifespan.startup":
            self._startup_received = True
        elif message_type == "lifespan.shutdown":
            self._shutdown_received = True

    def sent(self, message: Mapping[str, Any]) -> None:
        kind: str = message["type"]
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
            if not self._startup_received:
                raise _Broken(f"{kind!r} before the application received 'lifespan.startup'")
            if self._startup_answered:
                raise _Broken("startup was already answered; send one of complete or failed, once")
            self._startup_answered = True
            self._startup_failed = kind == "lifespan.startup.failed"
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if not self._shutdown_received:
                raise _Broken(f"{kind!r} before the application received 'lifespan.shutdown'")
            if self._shutdown_answered:
                raise _Broken("shutdown was already answered; send one of complete or failed, once")
            self._shutdown_answered = True
        else:
            raise _Broken(
                f"{kind!r} is not a message an application may send in the lifespan protocol"
            )
        if kind.endswith(".failed"):
            _optional(message, "message", _is_str, "a str")


def _protocol_for(scope: Mapping[str, Any]) -> _Protocol:
    kind = scope.get("type")
    if kind == "http":
        return _HttpProtocol(scope)
    if kind == "websocket":
        return _WebSocketProtocol(scope)
    if kind == "lifespan":
        return _LifespanProtocol()
    # A custom protocol: only the core rules (dicts, a str type, ASGI value types).
    return _Protocol()


class MessageValidator:
    """Follows one application instance and checks each message it sends."""

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self._protocol = _protocol_for(scope)
        self._sent = 0

    def received(self, message: object) -> None:
        """Note a message handed to the application's ``receive()``."""
        received = as_message(message)
        if received is not None:
            self._protocol.received(received.get("type"))

    def sent(self, message: object) -> None:
        """Raise ProtocolViolation unless the application may send ``message`` now."""
        self._sent += 1
        checked = as_message(message)
        kind = checked.get("type") if checked is not None else None
        try:
            if checked is None:
                raise _Broken(f"messages must be dicts, got {_kind(message)} {message!r}")
            if "type" not in checked:
                raise _Broken("the message has no 'type' key")
            if not isinstance(kind, str):
                raise _Broken(f"'type' must be a str, got {_kind(kind)} {kind!r}")
            values = checked
            if kind == "http.response.zerocopysend":
                # The one message that carries a real object: the open file.
                values = {key: value for key, value in checked.items() if key != "file"}
            _check_value(values, "the message")
            self._protocol.sent(checked)
        except _Broken as broken:
            raise ProtocolViolation(
                str(broken), index=self._sent, message_type=kind if isinstance(kind, str) else None
            ) from None

    def returned(self) -> None:
        """Raise ProtocolViolation if the application returned leaving its protocol unfinished."""
        try:
            self._protocol.returned()
        except _Broken as broken:
            raise ProtocolViolation(
                f"{broken} (after {self._sent} message{'s' if self._sent != 1 else ''})"
            ) from None


# --------------------------------------------------------------------------- scopes


def _check_pair(value: object, where: str, *, port_may_be_none: bool) -> None:
    if value is None:
        return
    pair = _sequence(value)
    ok = (
        pair is not None
        and len(pair) == 2
        and isinstance(pair[0], str)
        and (_is_int(pair[1]) or (port_may_be_none and pair[1] is None))
    )
    if not ok:
        port = "int or None" if port_may_be_none else "int"
        raise _Broken(f"{where} must be a [host, port] pair (str, {port}) or None, got {value!r}")


def _check_asgi_key(scope: Mapping[str, Any]) -> None:
    if "asgi" not in scope:
        return  # absent means ASGI 2.0
    asgi = as_message(scope["asgi"])
    if asgi is None:
        raise _Broken(f"'asgi' must be a dict, got {_kind(scope['asgi'])}")
    _required(asgi, "version", _is_str, "a str")
    _optional(asgi, "spec_version", _is_str, "a str")


def _check_www_scope(scope: Mapping[str, Any], *, websocket: bool) -> None:
    if websocket:
        _optional(scope, "http_version", _is_str, "a str")
    else:
        _required(scope, "http_version", _is_str, "a str")
    if "http_version" in scope and scope["http_version"] not in ("1.0", "1.1", "2", "3"):
        raise _Broken(
            f"'http_version' must be one of '1.0', '1.1', '2', '3', got {scope['http_version']!r}"
        )
    if not websocket:
        _required(scope, "method", _is_str, "a str")
        if not _METHOD.fullmatch(scope["method"]):
            raise _Broken(f"'method' must be an upper-case HTTP token, got {scope['method']!r}")
    _optional(
        scope, "scheme", lambda value: isinstance(value, str) and bool(value), "a non-empty str"
    )
    _required(scope, "path", _is_str, "a str")
    _optional(scope, "raw_path", _is_bytes_or_none, "bytes or None")
    if websocket:
        _optional(scope, "query_string", _is_bytes_or_none, "bytes or None")
    else:
        _required(scope, "query_string", _is_bytes, "bytes")
    _optional(scope, "root_path", _is_str, "a str")
    _required(scope, "headers", lambda _: True, "")
    _check_headers(scope["headers"], "'headers'", response=False)
    _check_pair(scope.get("client"), "'client'", port_may_be_none=False)
    _check_pair(scope.get("server"), "'server'", port_may_be_none=True)
    if websocket:
        subprotocols = _sequence(scope.get("subprotocols", []))
        if subprotocols is None or not all(isinstance(name, str) for name in subprotocols):
            raise _Broken(
                f"'subprotocols' must be a list of str, got {scope.get('subprotocols')!r}"
            )


def check_scope(scope: object) -> None:
    """Raise ProtocolViolation unless ``scope`` is a valid ASGI scope."""
    try:
        checked = as_message(scope)
        if checked is None:
            raise _Broken(f"a scope must be a dict, got {_kind(scope)}")
        keys: list[object] = list(checked)
        if not all(isinstance(key, str) for key in keys):
            raise _Broken("scope keys must be str")
        _required(checked, "type", _is_str, "a str")
        _check_asgi_key(checked)
        kind = checked["type"]
        if kind in ("http", "websocket"):
            _check_www_scope(checked, websocket=kind == "websocket")
        if kind in ("http", "websocket", "lifespan"):
            _optional(checked, "state", lambda value: isinstance(value, dict), "a dict")
        if checked.get("extensions") is not None:
            extensions = _mapping(checked["extensions"])
            if extensions is None or not all(
                isinstance(data, dict) for data in extensions.values()
            ):
                raise _Broken(
                    f"'extensions' must map extension names to dicts, got {checked['extensions']!r}"
                )
    except _Broken as broken:
        raise ProtocolViolation(str(broken), context="invalid ASGI scope") from None

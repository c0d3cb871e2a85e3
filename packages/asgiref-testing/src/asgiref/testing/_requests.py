"""Scope building shared by the HTTP and WebSocket helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import quote, unquote

from ._communicator import AnyApplication

__all__ = ["ConnectionSettings", "HeaderPairs", "encode_headers", "has_header", "split_target"]

# What callers may pass as headers: str parts are encoded as latin-1, like HTTP/1.1 does.
HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]

# Characters a client leaves as they are in a request target (RFC 3986 pchar plus "/"
# and "%", so an already percent-encoded path is not encoded twice).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def _to_bytes(value: str | bytes, what: str) -> bytes:
    given = cast("object", value)  # callers without a type checker pass anything
    if isinstance(given, bytes):
        return given
    if not isinstance(given, str):
        raise TypeError(f"header {what}s must be str or bytes, got {type(given).__name__}")
    try:
        return given.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"header {what} {given!r} is not latin-1; pass it as bytes in the encoding you want"
        ) from None


def encode_headers(headers: HeaderPairs) -> list[tuple[bytes, bytes]]:
    """Headers as an ASGI server passes them: byte pairs with lower-case names."""
    encoded: list[tuple[bytes, bytes]] = []
    for pair in headers:
        given = cast("object", pair)  # callers without a type checker pass anything
        if not isinstance(given, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"each header must be a (name, value) pair, got {pair!r}")
        name, value = pair
        encoded.append((_to_bytes(name, "name").lower(), _to_bytes(value, "value")))
    return encoded


def split_target(path: str, query_string: str | bytes | None) -> tuple[str, bytes, bytes]:
    """Turn a request target into the scope's ``path``, ``raw_path`` and ``query_string``.

    ``path`` may carry the query after ``?`` (then ``query_string`` must be None) and
    may be percent-encoded or not; non-ASCII characters are encoded as UTF-8.
    """
    given = cast("object", path)  # callers without a type checker pass anything
    if not isinstance(given, str):
        raise TypeError(f"path must be a str, got {type(given).__name__}")
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    raw, mark, after_mark = path.partition("?")
    if mark:
        if query_string is not None:
            raise ValueError(
                "give the query either in the path after '?' or as query_string, not both"
            )
        query_string = after_mark
    query = cast("object", b"" if query_string is None else query_string)
    if isinstance(query, str):
        query = quote(query, safe=_QUERY_SAFE).encode("ascii")
    if not isinstance(query, bytes):
        raise TypeError(f"query_string must be str or bytes, got {type(query).__name__}")
    raw_path = quote(raw, safe=_PATH_SAFE).encode("ascii")
    return unquote(raw_path.decode("ascii")), raw_path, query


def has_header(headers: list[tuple[bytes, bytes]], name: bytes) -> bool:
    """Whether ``headers`` (already lower-cased) holds ``name``."""
    return any(key == name for key, _ in headers)


class ConnectionSettings:
    """The application under test and what a server would report about the connection.

    Shared by the HTTP and WebSocket helpers, whose constructors set the defaults
    that differ (the scheme, for one).
    """

    def __init__(
        self,
        application: AnyApplication,
        *,
        validate: bool,
        timeout: float,
        scheme: str,
        server: tuple[str, int | None] | None,
        client: tuple[str, int] | None,
        root_path: str,
        state: dict[str, Any] | None,
        extensions: dict[str, dict[object, object]] | None,
    ) -> None:
        self.application = application
        self.validate = validate
        self.timeout = timeout
        self.scheme = scheme
        self.server = server
        self.client = client
        self.root_path = root_path
        self.state = state
        self.extensions = extensions

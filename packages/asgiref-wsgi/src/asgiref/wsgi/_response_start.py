"""Checking and encoding what a WSGI application passes to ``start_response``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# RFC 9110 field names are tokens; anything else would corrupt the response head.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# CR and LF would let a value start a new header line (response splitting); NUL is
# rejected by every HTTP/1.1 parser.
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")
# Names that passed the checks before, with their encoded form. Bounded: names may be
# built from request data by careless applications.
_NAME_CACHE: dict[str, bytes] = {}
_NAME_CACHE_LIMIT = 512


class ResponseStartError(ValueError):
    """``start_response`` was given a status or headers that cannot be sent."""


def parse_status(status: object) -> int:
    """Return the status code of a WSGI status line such as ``"200 OK"``."""
    if not isinstance(status, str):
        raise TypeError(f"status must be a str such as '200 OK', got {type(status).__name__}")
    code, space, _reason = status.partition(" ")
    if not space or len(code) != 3 or not code.isascii() or not code.isdigit():
        raise ResponseStartError(
            f"status must be three digits, a space and a reason phrase (e.g. '200 OK'), "
            f"got {status!r}"
        )
    return int(code)


def _encode_name(name: str) -> bytes:
    encoded = _NAME_CACHE.get(name)
    if encoded is None:
        if not _TOKEN.fullmatch(name):
            raise ResponseStartError(f"invalid response header name {name!r}")
        encoded = name.lower().encode("ascii")
        if len(_NAME_CACHE) < _NAME_CACHE_LIMIT:
            _NAME_CACHE[name] = encoded
    return encoded


def _encode_value(name: str, value: str) -> bytes:
    if value.isascii() and value.isprintable():
        return value.encode("ascii")  # the common case, decided without a regex
    if _FORBIDDEN_IN_VALUE.search(value):
        raise ResponseStartError(
            f"response header {name!r} has a value containing CR, LF or NUL: {value!r}"
        )
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise ResponseStartError(
            f"response header {name!r} has a value outside latin-1: {value!r}"
        ) from None


def _content_length(value: str) -> int:
    digits = value.strip(" \t")
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ResponseStartError(
            f"Content-Length must be a non-negative whole number of bytes, got {value!r}"
        )
    return int(digits)


def encode_headers(headers: Iterable[Any]) -> tuple[list[tuple[bytes, bytes]], int | None]:
    """Return ``(ASGI headers, content length or None)`` for WSGI ``response_headers``."""
    encoded: list[tuple[bytes, bytes]] = []
    length: int | None = None
    for pair in headers:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise ResponseStartError(
                f"each response header must be a (name, value) pair, got {pair!r}"
            ) from None
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(
                "response header names and values must be str, got "
                f"({type(name).__name__}, {type(value).__name__})"
            )
        raw_name = _encode_name(name)
        encoded.append((raw_name, _encode_value(name, value)))
        if raw_name == b"content-length":
            length = _content_length(value)
    return encoded, length

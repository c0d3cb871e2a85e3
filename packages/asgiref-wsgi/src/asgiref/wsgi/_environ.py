"""Building a PEP 3333 environ from an ASGI HTTP scope."""

from __future__ import annotations

import sys
from typing import Any

from ._file_wrapper import FileWrapper
from ._types import Environ, Scope

# Header names seen before, mapped to their environ key. Bounded, because header names come
# from clients: past the bound, keys are computed every time instead of remembered.
_KEY_CACHE: dict[bytes, str] = {
    b"content-length": "CONTENT_LENGTH",
    b"content-type": "CONTENT_TYPE",
}
_KEY_CACHE_LIMIT = 512


def _environ_key(name: bytes) -> str:
    key = _KEY_CACHE.get(name)
    if key is None:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if len(_KEY_CACHE) < _KEY_CACHE_LIMIT:
            _KEY_CACHE[name] = key
    return key


_REQUIRED = (("method", str), ("path", str), ("query_string", bytes), ("http_version", str))


def _check_required(scope: Scope) -> None:
    """Raise a clear KeyError / TypeError for a scope that lacks or mistypes a key."""
    for key, kind in _REQUIRED:
        if key not in scope:
            raise KeyError(f"the ASGI HTTP scope has no {key!r} key, which is required")
        value = scope[key]
        if not isinstance(value, kind):
            raise TypeError(
                f"the ASGI HTTP scope's {key!r} must be {kind.__name__}, got {type(value).__name__}"
            )


def _native(text: str) -> str:
    """A WSGI "native string": the UTF-8 bytes of ``text`` read as latin-1."""
    if text.isascii():
        return text  # the same characters either way
    return text.encode("utf-8").decode("latin-1")


def join_headers(headers: Any, duplicate_header_limit: int | None) -> dict[str, str]:
    """Map ASGI request headers to environ keys, joining repeats with ``","``.

    Values are collected in lists and joined once at the end, so the work stays linear in
    the number of headers however many of them repeat (CVE-2025-14550).
    """
    collected: dict[str, list[str]] = {}
    for name, value in headers:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError(
                "ASGI request headers must be pairs of bytes, got "
                f"({type(name).__name__}, {type(value).__name__})"
            )
        key = _environ_key(name)
        values = collected.get(key)
        if values is None:
            collected[key] = [value.decode("latin-1")]
            continue
        if duplicate_header_limit and len(values) >= duplicate_header_limit:
            raise ValueError(
                f"Too many duplicate headers: {key} exceeds limit of{duplicate_header_limit}"
            )
        values.append(value.decode("latin-1"))
    return {
        key: values[0] if len(values) == 1 else ",".join(values)
        for key, values in collected.items()
    }


def build_environ(scope: Scope, body: object, duplicate_header_limit: int | None) -> Environ:
    """Return the environ for ``scope``, with ``body`` as ``wsgi.input``.

    A ``ValueError`` (too many duplicate headers, a query string that is not ASCII...)
    means the request itself is bad; the caller answers it with a 400. A missing or
    mistyped scope key raises ``KeyError`` / ``TypeError``: that is a server bug.
    """
    try:
        method = scope["method"]
        path = scope["path"]
        query_string = scope["query_string"]
        http_version = scope["http_version"]
    except KeyError:
        _check_required(scope)
        raise
    if (
        type(method) is not str
        or type(path) is not str
        or type(query_string) is not bytes
        or type(http_version) is not str
    ):
        _check_required(scope)
    root_path = scope.get("root_path", "")
    if not isinstance(root_path, str):
        raise TypeError(f"the ASGI HTTP scope's 'root_path' must be str, got {root_path!r}")

    script_name = _native(root_path)
    path_info = _native(path)
    if path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]

    environ: Environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": query_string.decode("ascii"),
        "SERVER_PROTOCOL": "HTTP/" + http_version,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        # The body is streamed to its real end, so applications may read until b"".
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
    }

    server = scope.get("server")
    if server is not None:
        host, port = server
        environ["SERVER_NAME"] = host
        # A unix socket has no port; "0" keeps SERVER_PORT a number.
        environ["SERVER_PORT"] = "0" if port is None else str(port)
    else:
        environ["SERVER_NAME"] = "localhost"
        environ["SERVER_PORT"] = "80"

    client = scope.get("client")
    if client is not None:
        environ["REMOTE_ADDR"] = client[0]

    environ.update(join_headers(scope.get("headers", ()), duplicate_header_limit))
    return environ

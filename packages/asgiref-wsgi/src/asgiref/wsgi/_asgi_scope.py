"""The ASGI HTTP scope of one WSGI request, built from its PEP 3333 environ."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from ._types import Environ

# The HTTP spec version AsgiToWsgi implements: 2.4 makes send() after a disconnect raise
# an OSError subclass (ClientDisconnected).
SPEC_VERSION = "2.4"

_HTTP_VERSIONS = {
    "HTTP/1.1": "1.1",
    "HTTP/1.0": "1.0",
    "HTTP/2": "2",
    "HTTP/2.0": "2",
    "HTTP/3": "3",
    "HTTP/3.0": "3",
}
# Characters a request target keeps unescaped when raw_path must be rebuilt.
_PATH_SAFE = "/:@!$&'()*+,;=~-._"


class RequestFacts:
    """What the adapter needs of an environ besides the scope: how to read the body."""

    __slots__ = ("body_length", "read", "read_to_eof")

    def __init__(self, read: Any, body_length: int | None, read_to_eof: bool) -> None:
        self.read = read
        # None: no Content-Length; then the body is read to EOF only with read_to_eof.
        self.body_length = body_length
        self.read_to_eof = read_to_eof


def http_scope(environ: object) -> tuple[dict[str, Any], RequestFacts]:
    """The HTTP scope for ``environ`` (which it holds as ``scope["wsgi_environ"]``).

    Raises ``TypeError`` or ``ValueError`` naming the environ key that breaks PEP 3333.
    """
    if not isinstance(environ, dict):
        raise TypeError(f"AsgiToWsgi: the WSGI environ must be a dict, not {type(environ)!r}")
    return _scope(cast("Environ", environ)), _request_facts(cast("Environ", environ))


def _scope(environ: Environ) -> dict[str, Any]:
    method = _required_str(environ, "REQUEST_METHOD")
    script_name = _optional_str(environ, "SCRIPT_NAME")
    path_info = _optional_str(environ, "PATH_INFO")
    query = _optional_str(environ, "QUERY_STRING")
    raw_target = _latin1(script_name + path_info, "SCRIPT_NAME/PATH_INFO")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": SPEC_VERSION},
        "http_version": _http_version(environ),
        "method": method.upper(),
        "scheme": _required_str(environ, "wsgi.url_scheme"),
        "path": raw_target.decode("utf-8", "replace"),
        "raw_path": _raw_path(environ, raw_target),
        "query_string": _latin1(query, "QUERY_STRING"),
        "root_path": _latin1(script_name, "SCRIPT_NAME").decode("utf-8", "replace"),
        "headers": _headers(environ),
        "client": _client(environ),
        "server": _server(environ),
        "extensions": {},
        "wsgi_environ": environ,
    }
    return scope


def _required_str(environ: Environ, key: str) -> str:
    try:
        value = environ[key]
    except KeyError:
        raise ValueError(f"AsgiToWsgi: the WSGI environ has no {key!r} (PEP 3333)") from None
    if not isinstance(value, str) or not value:
        raise TypeError(f"AsgiToWsgi: environ[{key!r}] must be a non-empty str, not {value!r}")
    return value


def _optional_str(environ: Environ, key: str) -> str:
    value = environ.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"AsgiToWsgi: environ[{key!r}] must be a str, not {value!r}")
    return value


def _latin1(value: str, key: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"AsgiToWsgi: environ[{key!r}] holds characters outside latin-1; PEP 3333 "
            "servers give bytes decoded as latin-1"
        ) from None


def _http_version(environ: Environ) -> str:
    protocol = _required_str(environ, "SERVER_PROTOCOL")
    version = _HTTP_VERSIONS.get(protocol)
    if version is None:
        if not protocol.startswith("HTTP/"):
            raise ValueError(
                f"AsgiToWsgi: environ['SERVER_PROTOCOL'] must be like 'HTTP/1.1', not {protocol!r}"
            )
        version = protocol[5:]
    return version


def _raw_path(environ: Environ, raw_target: bytes) -> bytes:
    # gunicorn gives RAW_URI, mod_wsgi and uWSGI REQUEST_URI: the target as the client sent it.
    for key in ("RAW_URI", "REQUEST_URI"):
        target = environ.get(key)
        if isinstance(target, str) and target.startswith("/"):
            try:
                return target.partition("?")[0].encode("latin-1")
            except UnicodeEncodeError:
                break
    return quote(raw_target, safe=_PATH_SAFE).encode("ascii")


def _headers(environ: Environ) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            name = key[5:].replace("_", "-").lower()
            headers.append((_latin1(name, key), _header_value(value, key)))
    for key, name_bytes in (
        ("CONTENT_TYPE", b"content-type"),
        ("CONTENT_LENGTH", b"content-length"),
    ):
        value = environ.get(key) or environ.get(f"HTTP_{key}")
        if value:
            headers.append((name_bytes, _header_value(value, key)))
    return headers


def _header_value(value: object, key: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"AsgiToWsgi: environ[{key!r}] must be a str, not {value!r}")
    return _latin1(value, key)


def _client(environ: Environ) -> tuple[str, int] | None:
    address = environ.get("REMOTE_ADDR")
    if not address or not isinstance(address, str):
        return None
    # wsgiref and some others give no port; 0 stands for "unknown".
    return (address, _port(environ.get("REMOTE_PORT"), "REMOTE_PORT", default=0))


def _server(environ: Environ) -> tuple[str, int | None]:
    name = _required_str(environ, "SERVER_NAME")
    return (name, _port(environ.get("SERVER_PORT"), "SERVER_PORT", default=None))


def _port(value: object, key: str, default: int | None) -> Any:
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"AsgiToWsgi: environ[{key!r}] must be a port number, not {value!r}")


def _request_facts(environ: Environ) -> RequestFacts:
    stream = environ.get("wsgi.input")
    read = getattr(stream, "read", None)
    if not callable(read):
        raise TypeError(
            f"AsgiToWsgi: environ['wsgi.input'] must be a file-like object with read(), "
            f"not {stream!r}"
        )
    length_text = environ.get("CONTENT_LENGTH") or None
    body_length: int | None = None
    if length_text is not None:
        if not isinstance(length_text, str) or not length_text.strip().isdigit():
            raise ValueError(
                f"AsgiToWsgi: environ['CONTENT_LENGTH'] must be a decimal number, "
                f"not {length_text!r}"
            )
        body_length = int(length_text)
    return RequestFacts(read, body_length, bool(environ.get("wsgi.input_terminated")))

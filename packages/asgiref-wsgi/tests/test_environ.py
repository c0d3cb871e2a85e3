"""The environ WsgiToAsgiInstance.build_environ derives from an ASGI HTTP scope."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from typing import Any

import pytest
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance


def exact(message: str) -> str:
    """A pytest.raises pattern matching ``message`` and nothing else."""
    return "^" + re.escape(message) + "$"


def _app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [])
    return []


def _scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [],
    }
    scope.update(overrides)
    return scope


def _environ(limit: int | None = 100, **overrides: Any) -> dict[str, Any]:
    instance = WsgiToAsgiInstance(_app, duplicate_header_limit=limit)
    scope = _scope(**overrides)
    # asgiref's own tests set the scope first; keep that usage working.
    instance.scope = scope
    return instance.build_environ(scope, io.BytesIO(b"body"))


def test_core_keys() -> None:
    body = io.BytesIO(b"body")
    instance = WsgiToAsgiInstance(_app)
    scope = _scope(
        method="POST",
        path="/submit",
        query_string=b"a=1&b=%20",
        http_version="2",
        scheme="https",
        server=("example.org", 8443),
        client=("10.1.2.3", 55555),
    )
    instance.scope = scope
    environ = instance.build_environ(scope, body)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/submit"
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["SERVER_PROTOCOL"] == "HTTP/2"
    assert environ["SERVER_NAME"] == "example.org"
    assert environ["SERVER_PORT"] == "8443"
    assert environ["REMOTE_ADDR"] == "10.1.2.3"
    assert "REMOTE_PORT" not in environ
    assert "REMOTE_HOST" not in environ
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.input"] is body
    assert environ["wsgi.errors"] is sys.stderr
    assert environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is True
    assert environ["wsgi.run_once"] is False


@pytest.mark.ours_only("wsgi-environ-extra-keys")
def test_input_terminated_and_file_wrapper() -> None:
    environ = _environ()
    assert environ["wsgi.input_terminated"] is True
    assert callable(environ["wsgi.file_wrapper"])


def test_defaults_for_optional_scope_keys() -> None:
    environ = _environ()
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["SERVER_NAME"] == "localhost"
    assert environ["SERVER_PORT"] == "80"
    assert "REMOTE_ADDR" not in environ
    assert "CONTENT_LENGTH" not in environ
    assert "CONTENT_TYPE" not in environ


def test_none_server_and_client_count_as_missing() -> None:
    environ = _environ(server=None, client=None)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", "80")
    assert "REMOTE_ADDR" not in environ


def test_unix_socket_server_has_port_zero() -> None:
    environ = _environ(server=("/run/app.sock", None))
    assert environ["SERVER_NAME"] == "/run/app.sock"
    assert environ["SERVER_PORT"] == "0"


@pytest.mark.parametrize(
    ("root_path", "path", "script_name", "path_info"),
    [
        ("", "/a/b", "", "/a/b"),
        ("/base", "/base/x", "/base", "/x"),
        ("/base", "/base", "/base", ""),
        ("/base", "/other", "/base", "/other"),
        # A plain string prefix test, as in the published asgiref.
        ("/base", "/basement", "/base", "ment"),
        # Native strings: UTF-8 bytes seen as latin-1.
        ("/caf\u00e9", "/caf\u00e9/\u2603", "/caf\u00c3\u00a9", "/\u00e2\u0098\u0083"),
    ],
)
def test_script_name_and_path_info(
    root_path: str, path: str, script_name: str, path_info: str
) -> None:
    environ = _environ(root_path=root_path, path=path)
    assert environ["SCRIPT_NAME"] == script_name
    assert environ["PATH_INFO"] == path_info


def test_content_headers_and_http_keys() -> None:
    environ = _environ(
        headers=[
            (b"content-length", b"12"),
            (b"content-type", b"text/plain"),
            (b"x-forwarded-for", b"1.2.3.4"),
            (b"accept", b"*/*"),
            (b"x-latin", b"caf\xe9"),
        ]
    )
    assert environ["CONTENT_LENGTH"] == "12"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    assert environ["HTTP_ACCEPT"] == "*/*"
    assert environ["HTTP_X_LATIN"] == "caf\u00e9"
    assert "HTTP_CONTENT_LENGTH" not in environ


def test_header_names_match_case_sensitively() -> None:
    environ = _environ(headers=[(b"Content-Length", b"3"), (b"Content-Type", b"a/b")])
    assert environ["HTTP_CONTENT_LENGTH"] == "3"
    assert environ["HTTP_CONTENT_TYPE"] == "a/b"
    assert "CONTENT_LENGTH" not in environ


def test_repeated_headers_join_with_a_bare_comma_in_order() -> None:
    environ = _environ(
        headers=[
            (b"cookie", b"a=1"),
            (b"x-y", b"first"),
            (b"cookie", b"b=2"),
            (b"x_y", b"second"),
            (b"content-length", b"1"),
            (b"content-length", b"2"),
        ]
    )
    assert environ["HTTP_COOKIE"] == "a=1,b=2"
    assert environ["HTTP_X_Y"] == "first,second"
    assert environ["CONTENT_LENGTH"] == "1,2"


def test_duplicate_limit_accepts_exactly_the_limit() -> None:
    headers = [(b"x-test", str(i).encode()) for i in range(5)]
    environ = _environ(limit=5, headers=headers)
    assert environ["HTTP_X_TEST"] == "0,1,2,3,4"


def test_duplicate_limit_rejects_one_more_with_the_published_message() -> None:
    headers = [(b"x-test", b"v")] * 6
    with pytest.raises(
        ValueError, match=exact("Too many duplicate headers: HTTP_X_TEST exceeds limit of5")
    ):
        _environ(limit=5, headers=headers)


def test_duplicate_limit_applies_to_content_keys_too() -> None:
    headers = [(b"content-length", b"1")] * 3
    with pytest.raises(
        ValueError, match=exact("Too many duplicate headers: CONTENT_LENGTH exceeds limit of2")
    ):
        _environ(limit=2, headers=headers)


@pytest.mark.parametrize("limit", [None, 0])
def test_duplicate_limit_can_be_disabled(limit: int | None) -> None:
    count = 20_000
    environ = _environ(limit=limit, headers=[(b"x-many", b"ab")] * count)
    assert environ["HTTP_X_MANY"] == ",".join(["ab"] * count)


def test_default_limit_is_100() -> None:
    assert WsgiToAsgi(_app).duplicate_header_limit == 100
    assert WsgiToAsgiInstance(_app).duplicate_header_limit == 100
    environ = _environ(headers=[(b"x-test", b"v")] * 100)
    assert environ["HTTP_X_TEST"].count("v") == 100
    with pytest.raises(ValueError, match=re.escape("exceeds limit of100")):
        _environ(headers=[(b"x-test", b"v")] * 101)


def test_many_distinct_headers_are_fine() -> None:
    headers = [(f"x-h{i}".encode(), b"v") for i in range(2000)]
    environ = _environ(headers=headers)
    assert sum(1 for key in environ if key.startswith("HTTP_X_H")) == 2000


def test_non_ascii_query_string_is_a_value_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        _environ(query_string=b"q=\xff")


@pytest.mark.parametrize("missing", ["method", "path", "query_string", "http_version"])
def test_missing_required_scope_key(missing: str) -> None:
    scope = _scope()
    del scope[missing]
    instance = WsgiToAsgiInstance(_app)
    instance.scope = scope
    with pytest.raises(KeyError, match=missing):
        instance.build_environ(scope, io.BytesIO())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("method", b"GET"),
        ("path", b"/"),
        ("query_string", "a=1"),
        ("http_version", 1.1),
        ("root_path", b"/x"),
    ],
)
@pytest.mark.ours_only("wsgi-build-environ-from-argument")
def test_mistyped_scope_key(key: str, value: object) -> None:
    the_scope = _scope()
    the_scope[key] = value
    with pytest.raises(TypeError, match=key):
        WsgiToAsgiInstance(_app).build_environ(the_scope, io.BytesIO())


@pytest.mark.ours_only("wsgi-build-environ-from-argument")
def test_non_bytes_headers_are_rejected() -> None:
    with pytest.raises(TypeError, match="pairs of bytes"):
        _environ(headers=[("host", "example.org")])


@pytest.mark.ours_only("wsgi-build-environ-from-argument")
def test_build_environ_reads_headers_from_its_argument() -> None:
    # The published asgiref read headers from self.scope; the argument is what is meant.
    instance = WsgiToAsgiInstance(_app)
    environ = instance.build_environ(_scope(headers=[(b"x-a", b"1")]), io.BytesIO())
    assert environ["HTTP_X_A"] == "1"

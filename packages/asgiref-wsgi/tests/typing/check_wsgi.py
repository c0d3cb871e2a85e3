"""How applications and servers use asgiref.wsgi's types: must type-check cleanly.

Checked by mypy --strict and pyright strict, never executed. The WSGI side is spelled the
way frameworks spell it (wsgiref.types on 3.11+), the ASGI side with plain callables.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from asgiref.wsgi import (
    DEFAULT_MAX_WORKERS,
    ClientDisconnected,
    RequestBodyTooLarge,
    WsgiToAsgi,
    WsgiToAsgiInstance,
)

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


def plain_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


adapter = WsgiToAsgi(plain_app, duplicate_header_limit=None, max_workers=4)
assert_type(adapter.wsgi_application, Callable[[dict[str, Any], Any], Iterable[bytes]])
assert_type(adapter.duplicate_header_limit, int | None)
assert_type(adapter.max_workers, int)
assert_type(adapter.max_request_body_size, int | None)
assert_type(DEFAULT_MAX_WORKERS, int)


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
    pass


def serve(scope: dict[str, Any]) -> Awaitable[None]:
    return adapter(scope, receive, send)


instance = WsgiToAsgiInstance(plain_app, 10, max_request_body_size=1024)
assert_type(instance.response_started, bool)
assert_type(instance.response_content_length, int | None)
assert_type(instance.response_start, dict[str, Any])
assert_type(instance.build_environ({"type": "http"}, None), dict[str, Any])
write = instance.start_response("200 OK", [("X-A", "b")])
assert_type(write, Callable[[bytes], None])

if sys.version_info >= (3, 11):
    from wsgiref.types import StartResponse, WSGIEnvironment

    def typed_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("204 No Content", [])
        return []

    WsgiToAsgi(typed_app)


def handle(error: BaseException) -> None:
    if isinstance(error, ClientDisconnected | RequestBodyTooLarge):
        assert_type(error, ClientDisconnected | RequestBodyTooLarge)
        os_error: OSError = error
        del os_error


def as_typed_asgi_application() -> None:
    # What a server typed with asgiref.typing expects (checked only; asgiref-types is not
    # a dependency of asgiref-wsgi at run time).
    from asgiref.typing import ASGI3Application

    typed: ASGI3Application = WsgiToAsgi(plain_app)
    del typed

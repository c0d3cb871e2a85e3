"""Mistakes asgiref.typing must catch: each marked line is a type error.

Checked by mypy --strict and pyright strict, never executed. Each expected error is
silenced by a comment, and both checkers fail when a comment stops being needed (mypy:
warn_unused_ignores, part of --strict; pyright: reportUnnecessaryTypeIgnoreComment), so
a case that the types stop catching fails the check.

``# type: ignore[code]`` names mypy's error code. Pyright honours the same comment as a
blanket suppression (enableTypeIgnoreComments is on), so on those lines it checks that
it reports *an* error, and a ``# pyright: ignore[rule]`` beside it would be reported as
unnecessary. Errors only pyright reports carry ``# pyright: ignore[rule]`` alone.
"""

from __future__ import annotations

from asgiref.typing import (
    ASGI3Application,
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    LifespanStartupFailedEvent,
    Scope,
    WebSocketCloseEvent,
)

# A misspelt message type.
bad_type: HTTPResponseBodyEvent = {"type": "http.response.bdy", "body": b"", "more_body": False}  # type: ignore[typeddict-item]

# A required key left out.
missing: HTTPResponseStartEvent = {"type": "http.response.start", "headers": [], "trailers": False}  # type: ignore[typeddict-item]
no_message: LifespanStartupFailedEvent = {"type": "lifespan.startup.failed"}  # type: ignore[typeddict-item]

# A value of the wrong type.
str_body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": "", "more_body": False}  # type: ignore[typeddict-item]
no_code: WebSocketCloseEvent = {"type": "websocket.close", "code": None, "reason": None}  # type: ignore[typeddict-item]


async def send_misspelt_type(send: ASGISendCallable) -> None:
    # No member of the ASGISendEvent union matches: mypy reports the argument and the
    # ambiguous dict literal ([misc]).
    await send({"type": "http.response.bdy", "body": b"", "more_body": False})  # type: ignore[arg-type, misc]


async def send_wrong_status_type(send: ASGISendCallable) -> None:
    # No start message takes a str "status" (mypy: the argument and the ambiguous literal).
    await send({"type": "http.response.start", "status": "1", "headers": [], "trailers": True})  # type: ignore[arg-type, misc]


def read_state_unchecked(scope: HTTPScope) -> object:
    # "state" is NotRequired. Only pyright checks access to such keys; mypy allows it.
    return scope["state"]  # pyright: ignore[reportTypedDictNotRequiredAccess]


def sync_app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    del scope, receive, send


# An ASGI 3 application returns an awaitable.
not_async: ASGI3Application = sync_app  # type: ignore[assignment]

"""Per-protocol mistakes asgiref.typing must catch: each marked line is a type error.

Checked by mypy --strict and pyright strict, never executed; the comment conventions are
those of check_errors.py.
"""

from __future__ import annotations

from asgiref.typing import (
    ASGIReceiveCallable,
    HTTPReceiveCallable,
    HTTPResponseBodyEvent,
    HTTPSendCallable,
    LifespanSendCallable,
    WebSocketSendCallable,
)


async def receive_event_sent_as_http(send: HTTPSendCallable) -> None:
    # http.disconnect is a receive message: not in the per-protocol send union.
    await send({"type": "http.disconnect"})  # type: ignore[typeddict-item]


async def websocket_message_on_http(send: HTTPSendCallable) -> None:
    await send({"type": "websocket.accept"})  # type: ignore[typeddict-item]


async def http_message_on_websocket(send: WebSocketSendCallable) -> None:
    await send({"type": "http.response.body"})  # type: ignore[arg-type, misc]


async def http_message_on_lifespan(send: LifespanSendCallable) -> None:
    await send({"type": "http.response.body"})  # type: ignore[arg-type, misc]


def plain_receive_is_not_http_only(receive: ASGIReceiveCallable) -> HTTPReceiveCallable:
    return receive  # type: ignore[return-value]


def body_read_without_default(message: HTTPResponseBodyEvent) -> bytes:
    # "body" is NotRequired: only pyright checks such reads.
    return message["body"]  # pyright: ignore[reportTypedDictNotRequiredAccess]


still_required: HTTPResponseBodyEvent = {"type": "http.response.body", "body": ""}  # type: ignore[typeddict-item]

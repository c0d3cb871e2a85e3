"""Answering the scopes a WSGI application has no part in: lifespan and WebSocket."""

from __future__ import annotations

import logging

from ._types import Receive, Send

logger = logging.getLogger("asgiref.wsgi")


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown: a WSGI application has nothing to do for either."""
    while True:
        message = await receive()
        kind = message.get("type")
        if kind == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
        else:
            raise ValueError(f"WSGI wrapper received an unexpected lifespan message: {kind!r}")


async def refuse_websocket(receive: Receive, send: Send) -> None:
    """Close the WebSocket handshake: before ``websocket.accept`` that is an HTTP 403."""
    message = await receive()
    kind = message.get("type")
    if kind == "websocket.connect":
        logger.info("refused a WebSocket connection: a WSGI application cannot serve one")
        await send({"type": "websocket.close", "code": 1000})
    elif kind != "websocket.disconnect":
        raise ValueError(f"WSGI wrapper received an unexpected WebSocket message: {kind!r}")

"""The ASGI application as AsgiToWsgi runs it on its loop: for a request or the lifespan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

App = Callable[[dict[str, Any], Any, Any], Any]


async def run_app(
    app: App,
    scope: dict[str, Any],
    receive: Callable[[], Any],
    send: Callable[[Any], Any],
    ended: Callable[[BaseException | None], None],
) -> None:
    """Await the application, then tell ``ended`` how it finished: None, or what it raised.

    Run as a task nobody awaits, so an exception stops here: ``ended`` hands it to the
    side that waits for the answer. Cancellation, ``KeyboardInterrupt`` and
    ``SystemExit`` are reported too, and then go on.
    """
    try:
        await app(scope, receive, send)
    except BaseException as exc:
        ended(exc)
        if not isinstance(exc, Exception):
            raise
    else:
        ended(None)

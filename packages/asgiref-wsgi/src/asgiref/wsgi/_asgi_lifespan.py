"""The ASGI lifespan protocol, run by AsgiToWsgi on its event loop.

One lifespan per event loop that serves requests (the spec's rule): the adapter starts
one on the first request a loop serves, so a forked worker, which gets a loop of its
own, runs its own startup.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from ._asgi_app import App, run_app

logger = logging.getLogger("asgiref.wsgi")


class LifespanFailed(RuntimeError):
    """The application's lifespan startup failed; no request is served."""


class Lifespan:
    """One run of the lifespan protocol: startup, then (on request) shutdown."""

    def __init__(self, app: App, required: bool) -> None:
        self._app = app
        self._required = required  # lifespan="on": not supporting it is an error
        self.state: dict[str, Any] = {}
        self.supported = False
        self._events: asyncio.Queue[dict[str, Any]] | None = None
        self._startup_answer: asyncio.Future[str | None] | None = None
        self._shutdown_answer: asyncio.Future[str | None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup``; return once answered, raise ``LifespanFailed`` if failed."""
        loop = asyncio.get_running_loop()
        self._events = asyncio.Queue()
        self._startup_answer = loop.create_future()
        self._shutdown_answer = loop.create_future()
        self._events.put_nowait({"type": "lifespan.startup"})
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = loop.create_task(
            run_app(self._app, scope, self._receive, self._send, self._ended)
        )
        failure = await self._startup_answer
        if failure is not None:
            raise LifespanFailed(f"ASGI lifespan startup failed: {failure}")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the answer; a failure is logged."""
        task, events, answer = self._task, self._events, self._shutdown_answer
        if not self.supported or task is None or events is None or answer is None:
            return
        if task.done():
            return
        events.put_nowait({"type": "lifespan.shutdown"})
        failure = await answer
        if failure is not None:
            logger.error("AsgiToWsgi: ASGI lifespan shutdown failed: %s", failure)

    def _ended(self, error: BaseException | None) -> None:
        startup, shutdown = self._startup_answer, self._shutdown_answer
        if startup is not None and not startup.done():
            if self._required:
                reason = f"the application raised {error!r}" if error else "it returned early"
                startup.set_result(
                    f"lifespan='on' but the application does not support it ({reason})"
                )
            else:
                # The spec: an application that raises on lifespan does not support it.
                logger.info("AsgiToWsgi: ASGI 'lifespan' appears unsupported by the application")
                startup.set_result(None)
        elif shutdown is not None and not shutdown.done():
            if error is not None:
                shutdown.set_result(f"the application raised {error!r}")
            else:
                shutdown.set_result(None)
        elif error is not None:
            logger.error("AsgiToWsgi: the ASGI lifespan task raised", exc_info=error)

    async def _receive(self) -> dict[str, Any]:
        assert self._events is not None
        return await self._events.get()

    async def _send(self, message: Any) -> None:
        checked = cast("dict[str, Any]", message) if type(message) is dict else {}
        kind = checked.get("type")
        startup, shutdown = self._startup_answer, self._shutdown_answer
        assert startup is not None
        assert shutdown is not None
        if kind == "lifespan.startup.complete" and not startup.done():
            self.supported = True
            startup.set_result(None)
        elif kind == "lifespan.startup.failed" and not startup.done():
            startup.set_result(str(checked.get("message", "")) or "no message given")
        elif kind == "lifespan.shutdown.complete" and startup.done() and not shutdown.done():
            shutdown.set_result(None)
        elif kind == "lifespan.shutdown.failed" and startup.done() and not shutdown.done():
            shutdown.set_result(str(checked.get("message", "")) or "no message given")
        else:
            raise ValueError(
                f"AsgiToWsgi: unexpected lifespan message {message!r} at this point of the "
                "lifespan protocol"
            )

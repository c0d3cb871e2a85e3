"""StatelessServer: many logical ASGI application instances over one transport."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.compatibility import guarantee_single_callable
from asgiref.typing import ASGIApplication

__all__ = ["AnyApplication", "StatelessServer", "logger"]

logger = logging.getLogger("asgiref.server")

# Anything guarantee_single_callable accepts.  Wider than ASGIApplication on purpose:
# frameworks (Channels among them) annotate scope/receive/send with their own types.
AnyApplication = ASGIApplication | Callable[..., Any]


def _checked_bound(max_applications: object) -> float:
    """``max_applications`` if it is a usable bound; a clear error otherwise."""
    # A number, not just an int: math.inf is a fair way to ask for no bound at all.
    if isinstance(max_applications, bool) or not isinstance(max_applications, (int, float)):
        raise TypeError(f"max_applications must be a number, got {type(max_applications).__name__}")
    if not max_applications >= 1:  # NaN too
        # The published asgiref accepted it and ran one instance anyway.
        raise ValueError(
            f"max_applications must be at least 1 (no instance could ever run), "
            f"got {max_applications}"
        )
    return max_applications


class StatelessServer:
    """Base class for servers whose "connections" are scopes multiplexed over one channel.

    Subclasses implement :meth:`handle` (read from the transport, then feed each
    scope's queue from :meth:`get_or_create_application_instance`) and
    :meth:`application_send` (deliver what an application sends).  Instances
    that finish are removed by :meth:`application_checker`, and at most
    ``max_applications`` run at once: the least recently used one is evicted.
    """

    # Seconds between sweeps for finished application instances.
    application_checker_interval = 0.1

    def __init__(self, application: AnyApplication, max_applications: float = 1000) -> None:
        self.application = application
        self.max_applications = _checked_bound(max_applications)
        # scope_id -> {"input_queue", "future", "scope", "last_used"}
        self.application_instances: dict[Any, dict[str, Any]] = {}
        # Strong references to checker tasks started by arun(); the event loop only
        # keeps weak ones, and a collected task would stop checking silently.
        self._checker_tasks: set[asyncio.Task[None]] = set()

    # --------------------------------------------------------------- running

    def run(self) -> None:
        """Run the server in a new event loop until :meth:`handle` returns."""
        try:
            asyncio.run(self.arun())
        except KeyboardInterrupt:
            logger.info("Exiting due to Ctrl-C/interrupt")

    async def arun(self) -> None:
        """Run :meth:`handle`, with :meth:`application_checker` in the background.

        The checker is left running when this returns; it ends with the event loop
        (``run()`` cancels it), as in the published asgiref.
        """
        checker = asyncio.ensure_future(self.application_checker())
        self._checker_tasks.add(checker)
        checker.add_done_callback(self._checker_tasks.discard)
        await self.handle()

    async def handle(self) -> None:
        """Read from the transport and dispatch to application instances (override)."""
        raise NotImplementedError("You must implement handle()")

    async def application_send(self, scope: Any, message: Any) -> None:
        """Deliver a message an application instance sent (override)."""
        raise NotImplementedError("You must implement application_send()")

    # --------------------------------------------------------------- instances

    def get_or_create_application_instance(self, scope_id: Any, scope: Any) -> asyncio.Queue[Any]:
        """Return the input queue of ``scope_id``'s instance, starting one if needed.

        Needs a running event loop.  An existing instance keeps its original scope.
        """
        details = self.application_instances.get(scope_id)
        if details is not None:
            details["last_used"] = time.time()
            queue: asyncio.Queue[Any] = details["input_queue"]
            return queue
        # Make room before adding: never more than max_applications instances.  (The
        # published asgiref compares with ">" here and so holds one more.)
        while self.application_instances and (
            len(self.application_instances) >= self.max_applications
        ):
            self.delete_oldest_application_instance()
        input_queue: asyncio.Queue[Any] = asyncio.Queue()
        # Called with keywords, as the published asgiref does; subclasses rely on it.
        application: Callable[..., Awaitable[Any]] = guarantee_single_callable(self.application)

        def send(message: Any) -> Any:
            return self.application_send(scope, message)

        future = asyncio.ensure_future(application(scope=scope, receive=input_queue.get, send=send))
        self.application_instances[scope_id] = {
            "input_queue": input_queue,
            "future": future,
            "scope": scope,
            "last_used": time.time(),
        }
        return input_queue

    def delete_oldest_application_instance(self) -> None:
        """Delete the least recently used instance (ValueError if there is none)."""
        oldest = min(self.application_instances.items(), key=lambda item: item[1]["last_used"])[0]
        self.delete_application_instance(oldest)

    def delete_application_instance(self, scope_id: Any) -> None:
        """Forget ``scope_id``'s instance (KeyError if unknown), cancelling it if running."""
        details = self.application_instances.pop(scope_id)
        future: asyncio.Future[Any] = details["future"]
        if not future.done():
            future.cancel()

    async def application_checker(self) -> None:
        """Forever: every interval, report failed instances and drop finished ones."""
        while True:
            await asyncio.sleep(self.application_checker_interval)
            for scope_id, details in list(self.application_instances.items()):
                future: asyncio.Future[Any] = details["future"]
                if not future.done():
                    continue
                # As published: an instance that ended cancelled while still registered
                # makes exception() raise CancelledError, which ends the checker.
                exception = future.exception()
                if exception is not None:
                    await self.application_exception(exception, details)
                # The exception handler may have removed it already.
                self.application_instances.pop(scope_id, None)

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        """Log an instance's exception on the root logger (override to do more)."""
        frames = "".join(traceback.format_tb(exception.__traceback__))
        # The root-logger function on purpose (published behaviour): it also installs a
        # default handler when logging was never configured, so the error is seen.
        logging.error("Exception inside application: %s\n%s%s", exception, frames, f"  {exception}")

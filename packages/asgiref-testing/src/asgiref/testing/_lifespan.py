"""LifespanManager: run an ASGI application's startup and shutdown around a test."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from asgiref.typing import LifespanScope

from ._communicator import AnyApplication, ApplicationCommunicator, abandon
from ._validation import ProtocolViolation, check_scope, typed_message

__all__ = ["LifespanFailure", "LifespanManager"]

_LIFESPAN_SPEC_VERSION = "2.0"


class LifespanFailure(Exception):
    """The application reported ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``.

    ``phase`` is ``"startup"`` or ``"shutdown"``; ``message`` is the application's
    message.  If the application also raised, that exception is the ``__cause__``.
    """

    def __init__(self, phase: str, message: str) -> None:
        self.phase = phase
        self.message = message
        super().__init__(
            f"lifespan {phase} failed: {message}" if message else f"lifespan {phase} failed"
        )


class LifespanManager:
    """``async with LifespanManager(app) as lifespan:`` runs startup, then shutdown on exit.

    Startup or shutdown failures reported by the application raise
    :class:`LifespanFailure` with the application's message; an exception the
    application raises instead (for example because it does not support the
    lifespan protocol) propagates as it is.  :attr:`state` is the lifespan state
    namespace; hand it to :class:`HttpTester` / :class:`WebSocketTester` so
    requests see what startup stored.
    """

    def __init__(
        self, application: AnyApplication, *, validate: bool = False, timeout: float = 1.0
    ) -> None:
        self.application = application
        self.validate = validate
        self.timeout = timeout
        #: The scope's ``state`` dict, filled in by the application during startup.
        self.state: dict[str, Any] = {}
        self._communicator: ApplicationCommunicator | None = None
        self._received = 0

    async def __aenter__(self) -> LifespanManager:
        if self._communicator is not None:
            raise RuntimeError("this LifespanManager was already entered; make a new one")
        scope: LifespanScope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": _LIFESPAN_SPEC_VERSION},
            "state": self.state,
        }
        check_scope(scope)
        communicator = ApplicationCommunicator(self.application, scope, validate=self.validate)
        self._communicator = communicator
        try:
            await self._run_phase(communicator, "startup")
        except BaseException:
            await abandon(communicator)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        communicator = self._communicator
        assert communicator is not None, "__aexit__ without __aenter__"
        try:
            await self._run_phase(communicator, "shutdown")
        except BaseException:
            await abandon(communicator)
            raise
        await communicator.wait(self.timeout)

    async def _run_phase(self, communicator: ApplicationCommunicator, phase: str) -> None:
        await communicator.send_input({"type": f"lifespan.{phase}"})
        self._received += 1
        kind, message = typed_message(
            await communicator.receive_output(self.timeout), self._received
        )
        if kind == f"lifespan.{phase}.complete":
            return
        if kind == f"lifespan.{phase}.failed":
            failure = LifespanFailure(phase, str(message.get("message", "")))
            # Applications often raise right after reporting; keep that as the cause.
            try:
                await communicator.wait(self.timeout)
            except Exception as error:
                raise failure from error
            raise failure
        raise ProtocolViolation(
            f"expected 'lifespan.{phase}.complete' or 'lifespan.{phase}.failed', got {kind!r}",
            index=self._received,
            message_type=kind,
        )

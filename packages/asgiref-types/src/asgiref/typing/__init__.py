"""ASGI scope, event and application types for mypy and pyright (``asgiref.typing``).

``__all__`` is the published asgiref 3.13.0 list, in its order. Also importable but
deliberately unlisted: ``HTTPResponseDebugEvent`` (unlisted in the published asgiref too),
and ``HTTPResponseZerocopysendEvent``, ``HTTPResponseEarlyHintEvent`` and ``TLSExtension``,
which model extensions the published asgiref does not (see ``_extensions``).
"""

from __future__ import annotations

from ._asgi import ASGI2Application as ASGI2Application
from ._asgi import ASGI2Protocol as ASGI2Protocol
from ._asgi import ASGI3Application as ASGI3Application
from ._asgi import ASGIApplication as ASGIApplication
from ._asgi import ASGIReceiveCallable as ASGIReceiveCallable
from ._asgi import ASGIReceiveEvent as ASGIReceiveEvent
from ._asgi import ASGISendCallable as ASGISendCallable
from ._asgi import ASGISendEvent as ASGISendEvent
from ._asgi import ASGIVersions as ASGIVersions
from ._asgi import HTTPDisconnectEvent as HTTPDisconnectEvent
from ._asgi import HTTPRequestEvent as HTTPRequestEvent
from ._asgi import HTTPResponseBodyEvent as HTTPResponseBodyEvent
from ._asgi import HTTPResponseDebugEvent as HTTPResponseDebugEvent
from ._asgi import HTTPResponsePathsendEvent as HTTPResponsePathsendEvent
from ._asgi import HTTPResponseStartEvent as HTTPResponseStartEvent
from ._asgi import HTTPResponseTrailersEvent as HTTPResponseTrailersEvent
from ._asgi import HTTPScope as HTTPScope
from ._asgi import HTTPServerPushEvent as HTTPServerPushEvent
from ._asgi import LifespanScope as LifespanScope
from ._asgi import LifespanShutdownCompleteEvent as LifespanShutdownCompleteEvent
from ._asgi import LifespanShutdownEvent as LifespanShutdownEvent
from ._asgi import LifespanShutdownFailedEvent as LifespanShutdownFailedEvent
from ._asgi import LifespanStartupCompleteEvent as LifespanStartupCompleteEvent
from ._asgi import LifespanStartupEvent as LifespanStartupEvent
from ._asgi import LifespanStartupFailedEvent as LifespanStartupFailedEvent
from ._asgi import Scope as Scope
from ._asgi import WebSocketAcceptEvent as WebSocketAcceptEvent
from ._asgi import WebSocketCloseEvent as WebSocketCloseEvent
from ._asgi import WebSocketConnectEvent as WebSocketConnectEvent
from ._asgi import WebSocketDisconnectEvent as WebSocketDisconnectEvent
from ._asgi import WebSocketReceiveEvent as WebSocketReceiveEvent
from ._asgi import WebSocketResponseBodyEvent as WebSocketResponseBodyEvent
from ._asgi import WebSocketResponseStartEvent as WebSocketResponseStartEvent
from ._asgi import WebSocketScope as WebSocketScope
from ._asgi import WebSocketSendEvent as WebSocketSendEvent
from ._asgi import WWWScope as WWWScope
from ._extensions import HTTPResponseEarlyHintEvent as HTTPResponseEarlyHintEvent
from ._extensions import HTTPResponseZerocopysendEvent as HTTPResponseZerocopysendEvent
from ._extensions import TLSExtension as TLSExtension

# The published order, not sorted: callers compare against asgiref's list.
__all__ = [  # noqa: RUF022
    "ASGIVersions",
    "HTTPScope",
    "WebSocketScope",
    "LifespanScope",
    "WWWScope",
    "Scope",
    "HTTPRequestEvent",
    "HTTPResponseStartEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent",
    "HTTPResponsePathsendEvent",
    "HTTPServerPushEvent",
    "HTTPDisconnectEvent",
    "WebSocketConnectEvent",
    "WebSocketAcceptEvent",
    "WebSocketReceiveEvent",
    "WebSocketSendEvent",
    "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketDisconnectEvent",
    "WebSocketCloseEvent",
    "LifespanStartupEvent",
    "LifespanShutdownEvent",
    "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent",
    "LifespanShutdownCompleteEvent",
    "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent",
    "ASGISendEvent",
    "ASGIReceiveCallable",
    "ASGISendCallable",
    "ASGI2Protocol",
    "ASGI2Application",
    "ASGI3Application",
    "ASGIApplication",
]


def _report_public_module(names: tuple[str, ...]) -> None:
    """Make classes defined in the private modules report this public path, as in the
    published asgiref (reprs, pickles by reference, docs). The aliases (Union, Callable,
    type[...]) belong to typing or collections.abc and are left alone."""
    namespace = globals()
    for name in names:
        value = namespace[name]
        if getattr(value, "__module__", "").startswith(f"{__name__}._"):
            value.__module__ = __name__


_report_public_module(
    (
        *__all__,
        "HTTPResponseDebugEvent",
        "HTTPResponseZerocopysendEvent",
        "HTTPResponseEarlyHintEvent",
        "TLSExtension",
    )
)
del _report_public_module

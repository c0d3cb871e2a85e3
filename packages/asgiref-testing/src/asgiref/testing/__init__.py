"""Drive ASGI applications in-process from tests.

``ApplicationCommunicator`` runs one application instance and exchanges raw ASGI
messages with it.  ``HttpTester``, ``WebSocketTester`` and ``LifespanManager`` speak
the HTTP, WebSocket and lifespan protocols on top of it, for any ASGI application;
each takes ``validate=True`` to check every message the application sends against
the ASGI specification, raising ``ProtocolViolation`` at the first mistake.
"""

from __future__ import annotations

from ._communicator import ApplicationCommunicator as ApplicationCommunicator
from ._http import HttpResponse as HttpResponse
from ._http import HttpTester as HttpTester
from ._http import StreamingResponse as StreamingResponse
from ._lifespan import LifespanFailure as LifespanFailure
from ._lifespan import LifespanManager as LifespanManager
from ._validation import ProtocolViolation as ProtocolViolation
from ._websocket import WebSocketClosed as WebSocketClosed
from ._websocket import WebSocketDenied as WebSocketDenied
from ._websocket import WebSocketSession as WebSocketSession
from ._websocket import WebSocketTester as WebSocketTester

__all__ = [
    "ApplicationCommunicator",
    "HttpResponse",
    "HttpTester",
    "LifespanFailure",
    "LifespanManager",
    "ProtocolViolation",
    "StreamingResponse",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketSession",
    "WebSocketTester",
]

# Reprs, docs and pickles name the public path, not the private module.
for _exported in (
    ApplicationCommunicator,
    HttpResponse,
    HttpTester,
    LifespanFailure,
    LifespanManager,
    ProtocolViolation,
    StreamingResponse,
    WebSocketClosed,
    WebSocketDenied,
    WebSocketSession,
    WebSocketTester,
):
    _exported.__module__ = __name__
del _exported

"""Serve a WSGI application from an ASGI server: ``WsgiToAsgi(wsgi_app)``."""

from __future__ import annotations

from ._adapter import WsgiToAsgi as WsgiToAsgi
from ._adapter import WsgiToAsgiInstance as WsgiToAsgiInstance
from ._admission import DEFAULT_MAX_WORKERS as DEFAULT_MAX_WORKERS
from ._errors import ClientDisconnected as ClientDisconnected
from ._errors import RequestBodyTooLarge as RequestBodyTooLarge

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "ClientDisconnected",
    "RequestBodyTooLarge",
    "WsgiToAsgi",
    "WsgiToAsgiInstance",
]

for _name in ("ClientDisconnected", "RequestBodyTooLarge", "WsgiToAsgi", "WsgiToAsgiInstance"):
    globals()[_name].__module__ = __name__
del _name

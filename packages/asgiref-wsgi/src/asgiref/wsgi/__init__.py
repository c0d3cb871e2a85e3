"""WSGI applications on ASGI servers (``WsgiToAsgi``) and the reverse (``AsgiToWsgi``)."""

from __future__ import annotations

from ._adapter import WsgiToAsgi as WsgiToAsgi
from ._adapter import WsgiToAsgiInstance as WsgiToAsgiInstance
from ._admission import DEFAULT_MAX_WORKERS as DEFAULT_MAX_WORKERS
from ._asgi_to_wsgi import AsgiToWsgi as AsgiToWsgi
from ._errors import ClientDisconnected as ClientDisconnected
from ._errors import RequestBodyTooLarge as RequestBodyTooLarge

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "AsgiToWsgi",
    "ClientDisconnected",
    "RequestBodyTooLarge",
    "WsgiToAsgi",
    "WsgiToAsgiInstance",
]

for _name in (
    "AsgiToWsgi",
    "ClientDisconnected",
    "RequestBodyTooLarge",
    "WsgiToAsgi",
    "WsgiToAsgiInstance",
):
    globals()[_name].__module__ = __name__
del _name

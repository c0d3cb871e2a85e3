"""Errors a WSGI application can meet while the adapter talks to the ASGI server for it."""

from __future__ import annotations


class ClientDisconnected(OSError):
    """The request can no longer be read or answered: the client went away.

    Raised by ``wsgi.input`` reads and by ``write()`` / iterating the response once the ASGI
    server reported ``http.disconnect`` (or the request was otherwise cut short). It is an
    ``OSError`` so code that already handles broken connections handles this too.
    """


class RequestBodyTooLarge(OSError):
    """The request body is larger than the adapter's ``max_request_body_size``.

    Raised by ``wsgi.input`` reads; the client is answered ``413`` when no response has
    been started yet.
    """

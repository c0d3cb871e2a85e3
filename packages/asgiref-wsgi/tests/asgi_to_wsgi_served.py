"""The WSGI application the real-server tests serve, and a runner for wsgiref and waitress.

``application`` routes ``/plain/...`` to a plain ASGI application and ``/star/...`` to a
Starlette one, each behind its own AsgiToWsgi. gunicorn imports it by name; for wsgiref
and waitress, ``python asgi_to_wsgi_served.py SERVER`` binds 127.0.0.1 on a free port and
prints ``listening PORT`` once it accepts connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import json
import os
import signal
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from asgiref.wsgi import AsgiToWsgi

Scope = dict[str, Any]


async def plain_app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started_in"] = os.getpid()
                await send({"type": "lifespan.startup.complete"})
            else:
                print("lifespan shutdown in", os.getpid(), flush=True)
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path.startswith("/plain/scope"):
        await _json(send, _scope_summary(scope))
    elif path == "/plain/upload":
        await _json(send, await _digest(receive))
    elif path == "/plain/stream":
        await _stream_until_released(scope, send)
    elif path == "/plain/raise":
        raise RuntimeError("plain app failed before responding")
    elif path == "/plain/raise-later":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial ", "more_body": True})
        raise RuntimeError("plain app failed mid-response")
    elif path == "/plain/download":
        size = int(scope["query_string"] or b"0")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while size > 0:
            piece = min(size, 65536)
            size -= piece
            await send({"type": "http.response.body", "body": b"d" * piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    else:
        await _json(send, {"error": "not found"}, status=404)


def _scope_summary(scope: Scope) -> dict[str, Any]:
    return {
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "root_path": scope["root_path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "method": scope["method"],
        "http_version": scope["http_version"],
        "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
        "state": scope.get("state"),
        "pid": os.getpid(),
    }


async def _digest(receive: Any) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        body = message.get("body", b"")
        digest.update(body)
        size += len(body)
        if not message.get("more_body", False):
            return {"size": size, "sha256": digest.hexdigest()}


async def _stream_until_released(scope: Scope, send: Any) -> None:
    """Send one chunk, then the second only once the client says it has the first."""
    release = Path(scope["query_string"].decode())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"first;", "more_body": True})
    for _ in range(1000):  # bounded: at most ~10 s
        if await asyncio.to_thread(release.exists):
            break
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"second"})


async def _json(send: Any, data: Any, status: int = 200) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[dict[str, Any], None]:
        yield {"started_in": os.getpid()}

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "name": request.path_params["name"],
                "query": dict(request.query_params),
                "started_in": request.state.started_in,
            }
        )

    async def upload(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for number in range(5):
                yield b"chunk %d;" % number

        return StreamingResponse(chunks(), media_type="text/plain")

    async def fail(request: Request) -> JSONResponse:
        raise RuntimeError("starlette endpoint failed")

    routes = [
        Route("/star/hello/{name}", hello),
        Route("/star/upload", upload, methods=["POST"]),
        Route("/star/stream", stream),
        Route("/star/raise", fail),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


plain = AsgiToWsgi(plain_app)
star = AsgiToWsgi(_starlette_app())


def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Dispatch on the first path segment, as a WSGI mount would."""
    path = environ.get("PATH_INFO", "")
    target = star if path.startswith("/star/") else plain
    return target(environ, start_response)


def _serve(server: str) -> None:
    # Stopped with SIGTERM, exit as gunicorn does: through atexit (the lifespan shutdown).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    if server == "wsgiref":
        from socketserver import ThreadingMixIn
        from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

        class Quiet(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Threading(ThreadingMixIn, WSGIServer):
            daemon_threads = True
            request_queue_size = 128  # the default 5 makes 50 clients wait for SYN retries

        httpd = make_server(
            "127.0.0.1", 0, application, server_class=Threading, handler_class=Quiet
        )
        print("listening", httpd.server_address[1], flush=True)
        httpd.serve_forever()
    elif server == "waitress":
        # Imported by name: waitress ships no type information.
        create_server = importlib.import_module("waitress.server").create_server
        waitress_server = create_server(application, host="127.0.0.1", port=0, threads=8)
        print("listening", waitress_server.socket.getsockname()[1], flush=True)
        waitress_server.run()
    else:
        raise SystemExit(f"unknown server {server!r}")


if __name__ == "__main__":
    _serve(sys.argv[1])

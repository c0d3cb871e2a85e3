"""asgiref.wsgi.AsgiToWsgi: an ASGI application served by a WSGI server.

The server is the standard library's wsgiref (threaded), on 127.0.0.1 and a free port; the
client is http.client. It shows:

1. lifespan: startup runs before the first request, its state reaches every request;
2. the scope built from the WSGI environ (unicode path, query string, root_path);
3. a streamed response arriving chunk by chunk while the application is still sending;
4. a request body streamed to the application in 64 KiB messages;
5. async_to_sync inside the application's sync code coming back to the adapter's loop;
6. an application error answered with a logged 500;
7. lifespan shutdown on close().
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from http.client import HTTPConnection, HTTPResponse
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from asgiref.sync import async_to_sync, sync_to_async
from asgiref.wsgi import AsgiToWsgi

logging.basicConfig(level=logging.ERROR, format="    log: %(name)s %(levelname)s %(message)s")

adapter_loop: list[asyncio.AbstractEventLoop] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI application with a few routes."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                print("    lifespan startup: opening the 'database'")
                scope["state"]["database"] = "db-connection-1"
                adapter_loop.append(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            else:
                print("    lifespan shutdown: closing the 'database'")
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path.endswith("/scope"):
        summary = {key: scope[key] for key in ("path", "root_path", "method", "http_version")}
        summary["query_string"] = scope["query_string"].decode()
        summary["state"] = scope["state"]
        await send_all(send, json.dumps(summary).encode())
    elif path.endswith("/stream"):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for number in range(3):
            await send(
                {"type": "http.response.body", "body": b"tick %d\n" % number, "more_body": True}
            )
            await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": b"done\n"})
    elif path.endswith("/upload"):
        sizes = []
        while True:
            message = await receive()
            sizes.append(len(message["body"]))
            if not message["more_body"]:
                break
        await send_all(send, f"{len(sizes)} messages, {sum(sizes)} bytes".encode())
    elif path.endswith("/bridge"):
        same = await sync_to_async(sync_code_calling_async)()
        await send_all(send, f"async_to_sync came back to the adapter's loop: {same}".encode())
    else:
        raise RuntimeError("this route is broken on purpose")


def sync_code_calling_async() -> bool:
    return async_to_sync(running_loop)() is adapter_loop[0]


async def running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def send_all(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    wsgi_app = AsgiToWsgi(app)
    server = make_server(
        "127.0.0.1", 0, wsgi_app, server_class=ThreadingServer, handler_class=QuietHandler
    )
    port = server.server_address[1]
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()

    def request(method: str, path: str, body: bytes | None = None) -> HTTPResponse:
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(method, path, body=body)
        return connection.getresponse()

    try:
        print("1-2. GET /café/scope?x=1 (lifespan starts on the first request)")
        response = request("GET", "/caf%C3%A9/scope?x=1")
        print("   ", response.status, response.read().decode())

        print("3. a streamed response, printed as each chunk arrives")
        response = request("GET", "/stream")
        while line := response.readline():
            print("    received", line)

        print("4. a 1 MiB upload")
        print("   ", request("POST", "/upload", b"u" * (1 << 20)).read().decode())

        print("5. sync_to_async, then async_to_sync inside the application")
        print("   ", request("GET", "/bridge").read().decode())

        print("6. an application error")
        response = request("GET", "/broken")
        print("   ", response.status, response.read().decode())
    finally:
        server.shutdown()
        server.server_close()
        print("7. close(): lifespan shutdown, then the loop thread ends")
        wsgi_app.close(timeout=10)


if __name__ == "__main__":
    main()

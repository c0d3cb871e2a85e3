"""asgiref.wsgi.WsgiToAsgi and AsgiToWsgi: throughput and memory, in-process (no sockets).

Every workload drives an ASGI application directly with an in-process driver that behaves
like a real server: ``receive()`` hands out the request body in 64 KiB messages and, once
the body is exhausted, waits until the response is complete before answering
``http.disconnect``; ``send()`` records what it is given. The same driver runs the
published asgiref, ours, and a2wsgi's ``WSGIMiddleware`` (the ``a2wsgi_`` reference
workloads), so the ratios compare adapters and nothing else.
"""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

_Environ = dict[str, Any]
_StartResponse = Callable[..., Any]
_WsgiApp = Callable[[_Environ, _StartResponse], Iterable[bytes]]
_AsgiApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

_CHUNK = 64 * 1024
_MIB = 1024 * 1024
_SMALL_BODY = b"Hello, world!\n"


# --------------------------------------------------------------------------- WSGI apps


def _hello_app(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(_SMALL_BODY)))],
    )
    return [_SMALL_BODY]


def _upload_app(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
    """Read the request body in 64 KiB pieces, the way form parsers do, and report its size."""
    stream = environ["wsgi.input"]
    total = 0
    while True:
        piece = stream.read(_CHUNK)
        if not piece:
            break
        total += len(piece)
    body = str(total).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _make_download_app(total: int) -> _WsgiApp:
    def download_app(environ: _Environ, start_response: _StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        left = total
        while left > 0:
            size = min(_CHUNK, left)
            # A fresh object per chunk, as an app reading a file would produce.
            yield b"x" * size
            left -= size

    return download_app


# --------------------------------------------------------------------------- driver


def _scope(method: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/bench",
        "raw_path": b"/bench",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _request(
    app: _AsgiApp,
    method: str = "GET",
    body_size: int = 0,
    slow_send: bool = False,
) -> int:
    """Drive one request through ``app``; return the number of response body bytes."""
    headers = [(b"host", b"bench")]
    if body_size:
        headers.append((b"content-length", str(body_size).encode()))
    complete = asyncio.Event()
    left = body_size
    received = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal left
        if left < 0:
            await complete.wait()
            return {"type": "http.disconnect"}
        size = min(_CHUNK, left)
        left -= size
        more = left > 0
        if not more:
            left = -1
        # A fresh object per message, as a server reading a socket would produce.
        return {"type": "http.request", "body": b"u" * size, "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        nonlocal received, status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete.set()
        if slow_send:
            # A client that drains slower than the app produces: give the loop a turn.
            await asyncio.sleep(0)

    await app(_scope(method, headers), receive, send)
    if status != 200:
        raise RuntimeError(f"unexpected status {status}")
    return received


async def _concurrently(app: _AsgiApp, total: int, concurrency: int) -> None:
    async def client(count: int) -> None:
        for _ in range(count):
            await _request(app)

    per_client = total // concurrency
    await asyncio.gather(*(client(per_client) for _ in range(concurrency)))


def _time_per_request(
    run: Callable[[int], Awaitable[None]], count: int, rounds: int = 5, budget: float = 2.5
) -> float:
    """Best of up to ``rounds`` timings of ``run(count)``, each in a fresh event loop.

    Returns seconds per request. The best round is the one least disturbed by whatever
    else the (two-core, shared) machine was doing, which threaded adapters feel far more
    than pure-asyncio code. Rounds stop early once ``budget`` seconds are spent, so a
    slow implementation does not stretch the module's run past its time limit.
    """

    async def once(n: int) -> float:
        start = time.perf_counter()
        await run(n)
        return time.perf_counter() - start

    asyncio.run(once(max(1, count // 10)))  # warm-up: threads started, code paths hot
    timings: list[float] = []
    spent = 0.0
    while len(timings) < rounds and (len(timings) < 2 or spent < budget):
        timings.append(asyncio.run(once(count)))
        spent += timings[-1]
    return min(timings) / count


# --------------------------------------------------------------------------- adapters


def _ours(app: _WsgiApp) -> _AsgiApp:
    from asgiref.wsgi import WsgiToAsgi

    return WsgiToAsgi(app)  # type: ignore[no-any-return]


def _a2wsgi(app: _WsgiApp) -> _AsgiApp:
    try:
        from a2wsgi import WSGIMiddleware
    except ImportError as exc:  # the reference is optional when running by hand
        raise NotImplementedError("a2wsgi is not installed") from exc
    return WSGIMiddleware(app)  # type: ignore[arg-type, return-value]


# --------------------------------------------------------------------------- workloads


def _small_gets(adapter: Callable[[_WsgiApp], _AsgiApp]) -> float:
    app = adapter(_hello_app)
    return _time_per_request(lambda n: _concurrently(app, n, 64), 64 * 20)


def small_get_64() -> float:
    """Small GETs, 64 in flight: seconds per request."""
    return _small_gets(_ours)


def a2wsgi_small_get_64() -> float:
    """Reference: the same small GETs through a2wsgi.WSGIMiddleware."""
    return _small_gets(_a2wsgi)


def _posts(adapter: Callable[[_WsgiApp], _AsgiApp]) -> float:
    app = adapter(_upload_app)

    async def run(n: int) -> None:
        for _ in range(n):
            await _request(app, "POST", _MIB)

    return _time_per_request(run, 30)


def post_1mib() -> float:
    """One 1 MiB POST at a time, read by the app in 64 KiB pieces: seconds per request."""
    return _posts(_ours)


def a2wsgi_post_1mib() -> float:
    """Reference: the same 1 MiB POSTs through a2wsgi."""
    return _posts(_a2wsgi)


def _streams(adapter: Callable[[_WsgiApp], _AsgiApp]) -> float:
    app = adapter(_make_download_app(_MIB))

    async def run(n: int) -> None:
        for _ in range(n):
            if await _request(app) != _MIB:
                raise RuntimeError("short response")

    return _time_per_request(run, 30)


def stream_1mib() -> float:
    """One 1 MiB response streamed in 64 KiB chunks at a time: seconds per request."""
    return _streams(_ours)


def a2wsgi_stream_1mib() -> float:
    """Reference: the same 1 MiB streamed responses through a2wsgi."""
    return _streams(_a2wsgi)


def _peak_bytes(make: Callable[[], Awaitable[int]], expected: int) -> float:
    """Run ``make()`` once under tracemalloc; return the peak traced bytes above the start."""

    async def measured() -> tuple[int, int]:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            got = await make()
            return got, tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    got, peak = asyncio.run(measured())
    if got != expected:
        raise RuntimeError(f"expected {expected} bytes, got {got}")
    return float(peak)


def upload_100mib_peak_bytes() -> float:
    """Peak traced memory (BYTES, not seconds) while a 100 MiB request body is uploaded."""
    app = _ours(_upload_app)
    total = 100 * _MIB
    expected = len(str(total))
    return _peak_bytes(lambda: _request(app, "POST", total), expected)


def download_100mib_peak_bytes() -> float:
    """Peak traced memory (BYTES, not seconds) while a 100 MiB response goes to a slow client."""
    total = 100 * _MIB
    app = _ours(_make_download_app(total))
    return _peak_bytes(lambda: _request(app, slow_send=True), total)


# --------------------------------------------------------------------------- AsgiToWsgi
#
# The other direction: an ASGI application behind a WSGI server, compared with a2wsgi's
# ASGIMiddleware in the same process. The "server" calls the WSGI application directly,
# as wsgiref does (environ in, start_response, iterate, close), from one thread or from 64.


async def _asgi_hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("HTTP only")  # lifespan unsupported: both adapters go on without
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"14")],
        }
    )
    await send({"type": "http.response.body", "body": _SMALL_BODY})


async def _asgi_upload(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("HTTP only")
    total = 0
    while True:
        message = await receive()
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(total).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _asgi_download(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("HTTP only")
    left = int(scope["query_string"])
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while left > 0:
        size = min(_CHUNK, left)
        left -= size
        await send({"type": "http.response.body", "body": b"x" * size, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


class _LazyInput:
    """A request body made on demand, as a server reading a socket would deliver it."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return b"u" * size


def _environ(method: str = "GET", body_size: int = 0, query: str = "") -> _Environ:
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/bench",
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(body_size) if body_size else "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "bench",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": _LazyInput(body_size),
        "wsgi.errors": None,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _serve_one(app: _WsgiApp, environ: _Environ) -> int:
    """One request as a WSGI server handles it; return the response body size."""
    statuses: list[str] = []
    result = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        size = sum(len(chunk) for chunk in result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not statuses or not statuses[0].startswith("200"):
        raise RuntimeError(f"unexpected status {statuses}")
    return size


def _asgi_to_wsgi_ours(app: Any) -> _WsgiApp:
    try:
        from asgiref.wsgi import AsgiToWsgi  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:  # the published asgiref has no AsgiToWsgi
        raise NotImplementedError("asgiref.wsgi.AsgiToWsgi is not in this asgiref") from exc
    return AsgiToWsgi(app)  # type: ignore[no-any-return]


def _asgi_to_wsgi_a2wsgi(app: Any) -> _WsgiApp:
    try:
        from a2wsgi import ASGIMiddleware
    except ImportError as exc:
        raise NotImplementedError("a2wsgi is not installed") from exc
    return ASGIMiddleware(app)  # type: ignore[return-value]


def _best_time_per_request(
    run: Callable[[int], None], count: int, rounds: int = 5, budget: float = 2.5
) -> float:
    """Best of up to ``rounds`` timings of ``run(count)`` after a warm-up; seconds/request."""
    run(max(1, count // 10))
    timings: list[float] = []
    spent = 0.0
    while len(timings) < rounds and (len(timings) < 2 or spent < budget):
        start = time.perf_counter()
        run(count)
        timings.append(time.perf_counter() - start)
        spent += timings[-1]
    return min(timings) / count


def _direct_gets(adapter: Callable[[Any], _WsgiApp]) -> float:
    app = adapter(_asgi_hello)

    def run(n: int) -> None:
        for _ in range(n):
            _serve_one(app, _environ())

    return _best_time_per_request(run, 2000)


def _threaded_gets(adapter: Callable[[Any], _WsgiApp]) -> float:
    app = adapter(_asgi_hello)

    def run(n: int) -> None:
        per_thread = max(1, n // 64)

        def client() -> None:
            for _ in range(per_thread):
                _serve_one(app, _environ())

        threads = [threading.Thread(target=client) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    return _best_time_per_request(run, 64 * 30)


def _asgi_posts(adapter: Callable[[Any], _WsgiApp]) -> float:
    app = adapter(_asgi_upload)

    def run(n: int) -> None:
        for _ in range(n):
            _serve_one(app, _environ("POST", _MIB))

    return _best_time_per_request(run, 30)


def _asgi_downloads(adapter: Callable[[Any], _WsgiApp]) -> float:
    app = adapter(_asgi_download)

    def run(n: int) -> None:
        for _ in range(n):
            if _serve_one(app, _environ(query=str(_MIB))) != _MIB:
                raise RuntimeError("short response")

    return _best_time_per_request(run, 30)


def _asgi_peak(adapter: Callable[[Any], _WsgiApp], upload: bool) -> float:
    total = 100 * _MIB
    app = adapter(_asgi_upload if upload else _asgi_download)
    environ = _environ("POST", total) if upload else _environ(query=str(total))
    _serve_one(app, _environ("POST", 10) if upload else _environ(query="10"))  # warm-up
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        size = _serve_one(app, environ)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    if size != (len(str(total)) if upload else total):
        raise RuntimeError(f"unexpected response size {size}")
    return float(peak)


def a2w_get_direct() -> float:
    """AsgiToWsgi: small GETs called directly, one at a time: seconds per request."""
    return _direct_gets(_asgi_to_wsgi_ours)


def a2wsgi_asgi_get_direct() -> float:
    """Reference: the same through a2wsgi.ASGIMiddleware."""
    return _direct_gets(_asgi_to_wsgi_a2wsgi)


def a2w_get_64_threads() -> float:
    """AsgiToWsgi: small GETs from 64 server threads at once: seconds per request."""
    return _threaded_gets(_asgi_to_wsgi_ours)


def a2wsgi_asgi_get_64_threads() -> float:
    """Reference: the same through a2wsgi.ASGIMiddleware."""
    return _threaded_gets(_asgi_to_wsgi_a2wsgi)


def a2w_post_1mib() -> float:
    """AsgiToWsgi: 1 MiB POST read by the ASGI app: seconds per request."""
    return _asgi_posts(_asgi_to_wsgi_ours)


def a2wsgi_asgi_post_1mib() -> float:
    """Reference: the same through a2wsgi.ASGIMiddleware."""
    return _asgi_posts(_asgi_to_wsgi_a2wsgi)


def a2w_response_1mib() -> float:
    """AsgiToWsgi: 1 MiB response sent in 64 KiB messages: seconds per request."""
    return _asgi_downloads(_asgi_to_wsgi_ours)


def a2wsgi_asgi_response_1mib() -> float:
    """Reference: the same through a2wsgi.ASGIMiddleware."""
    return _asgi_downloads(_asgi_to_wsgi_a2wsgi)


def a2w_upload_100mib_peak_bytes() -> float:
    """AsgiToWsgi: peak traced memory (BYTES) for a 100 MiB request body."""
    return _asgi_peak(_asgi_to_wsgi_ours, upload=True)


def a2wsgi_asgi_upload_100mib_peak_bytes() -> float:
    """Reference: the same through a2wsgi.ASGIMiddleware."""
    return _asgi_peak(_asgi_to_wsgi_a2wsgi, upload=True)


def a2w_download_100mib_peak_bytes() -> float:
    """AsgiToWsgi: peak traced memory (BYTES) for a 100 MiB response."""
    return _asgi_peak(_asgi_to_wsgi_ours, upload=False)


def a2wsgi_asgi_download_100mib_peak_bytes() -> float:
    """Reference: the same through a2wsgi.ASGIMiddleware."""
    return _asgi_peak(_asgi_to_wsgi_a2wsgi, upload=False)


WORKLOADS: dict[str, Callable[[], float]] = {
    "small_get_64": small_get_64,
    "a2wsgi_small_get_64": a2wsgi_small_get_64,
    "post_1mib": post_1mib,
    "a2wsgi_post_1mib": a2wsgi_post_1mib,
    "stream_1mib": stream_1mib,
    "a2wsgi_stream_1mib": a2wsgi_stream_1mib,
    "upload_100mib_peak_bytes": upload_100mib_peak_bytes,
    "download_100mib_peak_bytes": download_100mib_peak_bytes,
    "a2w_get_direct": a2w_get_direct,
    "a2wsgi_asgi_get_direct": a2wsgi_asgi_get_direct,
    "a2w_get_64_threads": a2w_get_64_threads,
    "a2wsgi_asgi_get_64_threads": a2wsgi_asgi_get_64_threads,
    "a2w_post_1mib": a2w_post_1mib,
    "a2wsgi_asgi_post_1mib": a2wsgi_asgi_post_1mib,
    "a2w_response_1mib": a2w_response_1mib,
    "a2wsgi_asgi_response_1mib": a2wsgi_asgi_response_1mib,
    "a2w_upload_100mib_peak_bytes": a2w_upload_100mib_peak_bytes,
    "a2wsgi_asgi_upload_100mib_peak_bytes": a2wsgi_asgi_upload_100mib_peak_bytes,
    "a2w_download_100mib_peak_bytes": a2w_download_100mib_peak_bytes,
    "a2wsgi_asgi_download_100mib_peak_bytes": a2wsgi_asgi_download_100mib_peak_bytes,
}

# Time ratios: 1.5x a2wsgi's throughput is a time per request at most 1/1.5 of a2wsgi's.
TARGETS: list[tuple[str, str, float]] = [
    ("small_get_64", "a2wsgi_small_get_64", 0.667),
    # AsgiToWsgi: 1.5x a2wsgi's ASGIMiddleware on small requests, no worse on large bodies.
    ("a2w_get_direct", "a2wsgi_asgi_get_direct", 0.667),
    ("a2w_get_64_threads", "a2wsgi_asgi_get_64_threads", 0.667),
    ("a2w_post_1mib", "a2wsgi_asgi_post_1mib", 1.0),
    ("a2w_response_1mib", "a2wsgi_asgi_response_1mib", 1.0),
]
# Peak memory for 100 MiB each way is reported, not targeted: both adapters stay flat
# (under a MiB); ours lets up to 256 KiB of response wait for the server, a2wsgi one message.

# 3x the published throughput for small GETs; no slower for 1 MiB bodies either way.
VS_PUBLISHED: list[tuple[str, float]] = [
    ("small_get_64", 0.333),
    ("post_1mib", 1.0),
    ("stream_1mib", 1.0),
]


if __name__ == "__main__":
    for _name, _workload in WORKLOADS.items():
        try:
            _value = _workload()
        except NotImplementedError as _exc:
            print(f"{_name:<32} n/a ({_exc})")
            continue
        if _name.endswith("_bytes"):
            print(f"{_name:<32} {_value / _MIB:10.2f} MiB")
        else:
            print(f"{_name:<32} {_value * 1e6:10.1f} µs")

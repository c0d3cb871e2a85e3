"""AsgiToWsgi behind real WSGI servers (wsgiref, waitress, gunicorn sync and gthread) on
127.0.0.1, with httpx as the client, serving a plain ASGI application and a Starlette one.

Each server runs in a process of its own on a free port, started once per module and
stopped by pid; every wait is bounded. The applications are in asgi_to_wsgi_served.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
WAIT = 20.0
MIB = 1024 * 1024
SERVERS = ["wsgiref", "waitress", "gunicorn-sync", "gunicorn-gthread"]
GUNICORN_WORKERS = 2


class Server:
    """A WSGI server process and what it printed."""

    def __init__(self, name: str, command: list[str], ready: re.Pattern[str], ready_count: int):
        self.name = name
        self.output: list[str] = []
        self.port = 0
        self._ready = ready
        self._ready_left = ready_count
        self._listening = threading.Event()
        self.process = subprocess.Popen(
            command,
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        if not self._listening.wait(WAIT):
            self.stop()
            raise RuntimeError(f"{name} did not start:\n" + "".join(self.output))

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            port = re.search(r"(?:listening |Listening at: http://127\.0\.0\.1:)(\d+)", line)
            if port:
                self.port = int(port.group(1))
            if self._ready.search(line):
                self._ready_left -= 1
                if self._ready_left == 0:
                    self._listening.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(WAIT)
        self._reader.join(WAIT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return "".join(self.output)


def start(name: str) -> Server:
    if name.startswith("gunicorn"):
        worker_class = name.split("-")[1]
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            str(GUNICORN_WORKERS),
            "--worker-class",
            worker_class,
            "--threads",
            "8",
            "--graceful-timeout",
            "5",
            "asgi_to_wsgi_served:application",
        ]
        return Server(name, command, re.compile("Booting worker with pid"), GUNICORN_WORKERS)
    command = [sys.executable, str(HERE / "asgi_to_wsgi_served.py"), name]
    return Server(name, command, re.compile(r"^listening \d+"), 1)


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    if request.param == "waitress":
        pytest.importorskip("waitress")
    if request.param.startswith("gunicorn"):
        if sys.platform == "win32":
            pytest.skip("gunicorn runs on Unix only")
        pytest.importorskip("gunicorn")
    running = start(request.param)
    yield running
    output = running.stop()
    # Only the failures provoked on purpose were logged (none from lifespan shutdown at exit).
    assert _only_expected(output), output
    # Every serving process ran the plain application's lifespan shutdown as it exited.
    processes = GUNICORN_WORKERS if running.name.startswith("gunicorn") else 1
    assert output.count("lifespan shutdown in") == processes, output


_EXPECTED_ERRORS = ("failed before responding", "failed mid-response", "starlette endpoint failed")


def _only_expected(output: str) -> bool:
    blocks = output.split("Traceback (most recent call last):")[1:]
    return all(any(expected in block for expected in _EXPECTED_ERRORS) for block in blocks)


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=WAIT) as http:
        yield http


def test_get_with_query_and_unicode_path(client: httpx.Client) -> None:
    response = client.get("/plain/scope/café/ü", params={"q": "1", "name": "é"})
    assert response.status_code == 200
    data = response.json()
    assert data["path"] == "/plain/scope/café/ü"
    assert data["raw_path"] == "/plain/scope/caf%C3%A9/%C3%BC"
    assert data["query_string"] == "q=1&name=%C3%A9"
    assert data["method"] == "GET"
    assert data["http_version"] in ("1.0", "1.1")
    assert data["headers"]["host"].startswith("127.0.0.1:")


def test_lifespan_state_comes_from_the_serving_process(client: httpx.Client) -> None:
    for _ in range(4):
        data = client.get("/plain/scope").json()
        # Startup ran in the process that serves (each gunicorn worker has its own).
        assert data["state"] == {"started_in": data["pid"]}
    hello = client.get("/star/hello/world", params={"x": "1"}).json()
    assert hello["name"] == "world"
    assert hello["query"] == {"x": "1"}
    assert isinstance(hello["started_in"], int)


@pytest.mark.parametrize("prefix", ["/plain", "/star"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_five_mib_post(client: httpx.Client, server: Server, prefix: str, chunked: bool) -> None:
    if chunked and server.name == "wsgiref":
        pytest.skip("wsgiref's server does not decode chunked request bodies")
    body = os.urandom(5 * MIB)

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    content = pieces() if chunked else body
    response = client.post(f"{prefix}/upload", content=content)
    assert response.status_code == 200, response.text
    assert response.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def test_streamed_response_arrives_incrementally(client: httpx.Client, tmp_path: Path) -> None:
    release = tmp_path / "release"
    # The release file's path is the whole query string.
    with client.stream("GET", f"/plain/stream?{release}") as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        received = b""
        while b"first;" not in received:
            received += next(chunks)
        # The application is still waiting: the second chunk does not exist yet.
        release.touch()
        received += b"".join(chunks)
    assert received == b"first;second"


def test_starlette_streaming_response(client: httpx.Client) -> None:
    response = client.get("/star/stream")
    assert response.status_code == 200
    assert response.text == "".join(f"chunk {n};" for n in range(5))


def test_exception_before_response_is_a_500(client: httpx.Client) -> None:
    response = client.get("/plain/raise")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert client.get("/star/raise").status_code == 500


def test_exception_mid_response_breaks_the_connection(client: httpx.Client) -> None:
    try:
        response = client.get("/plain/raise-later")
    except httpx.HTTPError:
        return  # chunked framing cut short: the client knows the body is incomplete
    # HTTP/1.0 without a length (wsgiref): the body just ends, short of what was meant.
    assert response.content == b"partial "


def test_fifty_concurrent_requests(server: Server) -> None:
    limits = httpx.Limits(max_connections=50)
    with httpx.Client(base_url=server.url, timeout=WAIT, limits=limits) as http:

        def fetch(number: int) -> tuple[int, str]:
            if number % 2:
                return number, http.get(f"/star/hello/n{number}").json()["name"]
            return number, http.get(f"/plain/scope/n{number}").json()["path"]

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(fetch, range(50)))
    for number, got in results:
        assert got == (f"n{number}" if number % 2 else f"/plain/scope/n{number}")

"""Redis for the channel layer: installed from Debian when missing, run on a free port.

The driver also speaks a few RESP commands itself (PING, ZCARD) to look at the
channel layer's state without a client library.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from .procs import Proc, Registry, wait_until


def ensure_redis_server() -> str:
    """The redis-server executable; on a fresh Debian machine, as root, install it."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            "redis-server is not installed and cannot be installed here (needs root and "
            "apt-get): install Debian's redis-server package, or put redis-server on PATH"
        )
    print("redis-server missing: apt-get install -y redis-server", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
        subprocess.run(argv, check=True, env=env, timeout=600)
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("apt-get installed redis-server, yet it is not on PATH")
    return found


def command(port: int, *args: str, timeout: float = 2.0) -> bytes:
    """Send one RESP command to 127.0.0.1:``port``; return the raw reply line(s)."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        return sock.recv(65536)


def ping(port: int) -> bool:
    try:
        return command(port, "PING", timeout=0.5).startswith(b"+PONG")
    except OSError:
        return False


def group_size(port: int, group: str) -> int:
    """Members of a chat room's group (the site names it room-ROOM; channels_redis keeps a
    group in the zset asgi:group:NAME)."""
    reply = command(port, "ZCARD", f"asgi:group:room-{group}")
    if not reply.startswith(b":"):
        raise RuntimeError(f"unexpected ZCARD reply {reply!r}")
    return int(reply[1:].split(b"\r\n")[0])


class RedisServer:
    """One redis-server, restartable on the same port with the same data directory."""

    def __init__(self, registry: Registry, executable: str, data_dir: Path) -> None:
        self.registry = registry
        self.executable = executable
        self.data_dir = data_dir
        self.port = 0
        self.proc: Proc | None = None
        self.starts = 0
        # A dump left by an earlier run would bring back its groups.
        shutil.rmtree(data_dir, ignore_errors=True)

    def start(self, port: int) -> None:
        self.port = port
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            self.executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(self.data_dir),
            # A graceful restart (SIGTERM) writes the dataset and the next start loads it,
            # as a packaged Redis does: the groups survive the restart, in-flight work may not.
            "--save",
            "3600 1",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--logfile",
            "",
        ]
        self.proc = self.registry.start(
            f"redis-{self.starts}", argv, env=dict(os.environ), cwd=self.data_dir
        )
        wait_until("redis-server answers PING", lambda: ping(port), timeout=15)

    def restart(self) -> tuple[float, float]:
        """SIGTERM (Redis saves and exits), start again; return (stopped_at, up_at) seconds."""
        import time

        assert self.proc is not None
        self.registry.stop(self.proc)
        stopped_at = time.monotonic()
        self.start(self.port)
        return stopped_at, time.monotonic()

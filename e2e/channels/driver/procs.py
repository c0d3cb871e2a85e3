"""Processes the driver starts: free ports, logs, bounded waits, stop by pid, /proc samples.

Every process is registered the moment it starts and stopped by its own pid at exit,
also when the driver fails (``stop_all`` runs from ``finally`` and from ``atexit``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE_SECONDS = 10.0


class Hang(RuntimeError):
    """A process did not do what it had to within its bound."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Proc:
    name: str
    argv: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes]
    started_at: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@dataclass(frozen=True)
class Sample:
    """One look at a process in /proc: resident memory and thread count."""

    rss_kib: int
    threads: int


def sample(pid: int) -> Sample | None:
    """RSS and thread count of ``pid`` from /proc, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "Threads"):
            values[key] = int(rest.split()[0])
    if "VmRSS" not in values or "Threads" not in values:
        return None
    return Sample(values["VmRSS"], values["Threads"])


class Registry:
    """Every process this run started, so that each one is stopped by its pid."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[Proc] = []
        self.hangs: list[str] = []
        atexit.register(self.stop_all)

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> Proc:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:  # names are unique within a run
            popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        proc = Proc(name, list(argv), log_path, popen)
        self.procs.append(proc)
        return proc

    def kill9(self, proc: Proc) -> None:
        """The fault: SIGKILL, then reap (a kill -9 is over within a second)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        try:
            proc.popen.wait(timeout=5)
        except subprocess.TimeoutExpired as exc:
            raise Hang(f"{proc.name} (pid {proc.pid}) survived SIGKILL for 5 s") from exc

    def stop(self, proc: Proc, *, grace: float = STOP_GRACE_SECONDS) -> float | None:
        """SIGTERM, wait up to ``grace``; on overrun dump stacks, SIGKILL and record a hang.

        Returns the seconds the process took to exit, None if it was already gone.
        """
        if not proc.alive():
            return None
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.hangs.append(f"{proc.name} (pid {proc.pid}) ignored SIGTERM for {grace:.0f} s")
            # The site registers faulthandler on SIGUSR1: its stacks go to the log.
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(0.5)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=5)
        return time.monotonic() - started

    def stop_all(self) -> None:
        # Newest first: servers and workers before the Redis they talk to.
        for proc in reversed(self.procs):
            self.stop(proc)


def wait_until(what: str, predicate: object, *, timeout: float, every: float = 0.05) -> float:
    """Poll ``predicate()`` until true; return the seconds it took, raise Hang on timeout."""
    assert callable(predicate)
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise Hang(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic() - started

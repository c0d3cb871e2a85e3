"""The chat site of one side: Daphne, uvicorn and runworker processes, and their proof.

A side is a virtualenv with channels, channels_redis, daphne, uvicorn and one asgiref
(the published 3.13.0, or our six wheels). Every site process prints one
``E2E-ASGIREF {json}`` line at import (chatsite/chat/asgi.py); ``check_proof`` fails the
run unless that line names the asgiref this side is meant to run.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .procs import Proc, Registry, free_port, port_open, wait_until

CHATSITE = Path(__file__).resolve().parent.parent / "chatsite"
TASK_CHANNEL = "chat-tasks"
OURS = (
    "asgiref-types",
    "asgiref-sync",
    "asgiref-wsgi",
    "asgiref-testing",
    "asgiref-server",
    "asgiref",
)
PUBLISHED_VERSION = "3.13.0"


@dataclass
class Side:
    name: str  # "published" or "ours"
    python: str

    @property
    def is_ours(self) -> bool:
        return self.name == "ours"


def parse_side(text: str) -> Side:
    name, sep, python = text.partition("=")
    if not sep or name not in ("published", "ours") or not python:
        raise ValueError(f"--side takes published=PYTHON or ours=PYTHON, got {text!r}")
    return Side(name, python)


class Site:
    """The processes of one side's site; servers and workers are started and stopped here."""

    def __init__(self, side: Side, registry: Registry, redis_port: int) -> None:
        self.side = side
        self.registry = registry
        self.redis_port = redis_port
        self.daphne: Proc | None = None
        self.uvicorn: Proc | None = None
        self.workers: list[Proc] = []  # the ones meant to be running
        self.retired: list[Proc] = []  # killed by a fault, or died and replaced
        self.daphne_port = 0
        self.uvicorn_port = 0
        self._worker_count = 0

    def _env(self) -> dict[str, str]:
        import os

        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "VIRTUAL_ENV", "DJANGO"))
        }
        env.update(
            {
                "PYTHONPATH": str(CHATSITE),
                "DJANGO_SETTINGS_MODULE": "chat.settings",
                "E2E_REDIS_PORT": str(self.redis_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _start(self, name: str, args: list[str]) -> Proc:
        return self.registry.start(
            f"{self.side.name}-{name}", [self.side.python, *args], env=self._env(), cwd=CHATSITE
        )

    def start_servers(self) -> None:
        self.daphne_port = free_port()
        self.daphne = self._start(
            "daphne",
            [
                "-m",
                "daphne",
                "-v",
                "0",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.daphne_port),
                "chat.asgi:application",
            ],
        )
        self.uvicorn_port = free_port()
        self.uvicorn = self._start(
            "uvicorn",
            [
                "-m",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.uvicorn_port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--lifespan",
                "off",
                "chat.asgi:application",
            ],
        )

    def start_worker(self) -> Proc:
        self._worker_count += 1
        proc = self._start(f"worker-{self._worker_count}", ["manage.py", "runworker", TASK_CHANNEL])
        self.workers.append(proc)
        return proc

    def retire(self, proc: Proc) -> None:
        self.workers.remove(proc)
        self.retired.append(proc)

    def wait_servers_listening(self, timeout: float) -> None:
        for proc, port in ((self.daphne, self.daphne_port), (self.uvicorn, self.uvicorn_port)):
            assert proc is not None
            wait_until(
                f"{proc.name} listening on 127.0.0.1:{port}",
                lambda p=proc, n=port: _listening_or_dead(p, n),
                timeout=timeout,
            )
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited at start:\n{proc.log_tail()}")

    def processes(self) -> list[Proc]:
        servers = [p for p in (self.daphne, self.uvicorn) if p is not None]
        return [*servers, *self.workers, *self.retired]


def _listening_or_dead(proc: Proc, port: int) -> bool:
    return not proc.alive() or port_open(port)


def identity_of(proc: Proc) -> dict[str, object] | None:
    """The E2E-ASGIREF line the process printed at import, or None if not (yet)."""
    for line in proc.log_text().splitlines():
        if line.startswith("E2E-ASGIREF "):
            loaded: dict[str, object] = json.loads(line.split(" ", 1)[1])
            return loaded
    return None


def _wheel_file(wheel_dir: Path, dist: str, member: str) -> bytes:
    (wheel,) = wheel_dir.glob(f"{dist.replace('-', '_')}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def check_proof(side: Side, identity: dict[str, object], wheel_dir: Path | None) -> list[str]:
    """What is wrong with the asgiref a process imported; empty when it is the right one."""
    problems: list[str] = []
    providers = identity.get("providers")
    sync_file = str(identity.get("sync_file"))
    server_file = str(identity.get("server_file"))
    venv = str(Path(side.python).parent.parent)
    problems += [
        f"{module_file} is not inside {venv}'s site-packages"
        for module_file in (sync_file, server_file)
        if not module_file.startswith(venv) or "site-packages" not in module_file
    ]
    if side.is_ours:
        expected = sorted(f"{d}=={PUBLISHED_VERSION}" for d in OURS)
        if providers != expected:
            problems.append(f"asgiref files come from {providers}, expected our six: {expected}")
        # Ours is a package per subpackage; the published asgiref has asgiref/sync.py.
        if not sync_file.endswith("asgiref/sync/__init__.py"):
            problems.append(f"asgiref.sync is {sync_file}, not our asgiref/sync/__init__.py")
        if wheel_dir is not None:
            for dist, member, path in (
                ("asgiref-sync", "asgiref/sync/__init__.py", sync_file),
                ("asgiref-server", "asgiref/server/__init__.py", server_file),
            ):
                if Path(path).read_bytes() != _wheel_file(wheel_dir, dist, member):
                    problems.append(f"{path} differs from {member} in the {dist} wheel just built")
    else:
        if providers != [f"asgiref=={PUBLISHED_VERSION}"]:
            problems.append(f"asgiref files come from {providers}, expected asgiref 3.13.0 only")
        if not sync_file.endswith("asgiref/sync.py"):
            problems.append(f"asgiref.sync is {sync_file}, not the published asgiref/sync.py")
    return problems

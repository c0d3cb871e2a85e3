"""The two long-lived ``runner.py serve`` processes, one per implementation."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

RUNNER = Path(__file__).resolve().parent.parent / "in_venv" / "runner.py"


class RunnerError(RuntimeError):
    """The runner process itself failed (not a program in it)."""


class Runner:
    """One side: a Python with an asgiref installed, serving batches of programs."""

    def __init__(self, name: str, python: str, *, plant: str = "") -> None:
        self.name = name
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        env.pop("DIFFERENTIAL_PLANT", None)
        if plant:
            env["DIFFERENTIAL_PLANT"] = plant
        # What the programs print (asyncio debug logs, "never retrieved" notes) is not part of
        # the trace: keep it in a log file for whoever investigates.
        self.log: IO[str] = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the process
            "w+", prefix=f"differential-{name}-", suffix=".log", delete=False
        )
        # Started from a neutral directory so a source tree in the cwd cannot shadow the install.
        self.process = subprocess.Popen(
            [python, str(RUNNER), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )

    def submit(self, programs: list[Any], timeout: float) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"programs": programs, "timeout": timeout}) + "\n")
        self.process.stdin.flush()

    def collect(self) -> list[list[dict[str, Any]]]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.log.flush()
            tail = Path(self.log.name).read_text()[-2000:]
            raise RunnerError(f"the {self.name} runner exited ({self.process.poll()}):\n{tail}")
        traces: list[list[dict[str, Any]]] = json.loads(line)["traces"]
        return traces

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def run_both(
    published: Runner, ours: Runner, programs: list[Any], timeout: float
) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """The same batch on both sides, at the same time (one core each)."""
    published.submit(programs, timeout)
    ours.submit(programs, timeout)
    return published.collect(), ours.collect()

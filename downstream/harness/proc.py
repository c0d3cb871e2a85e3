"""Subprocess helpers: every command the driver runs goes through here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class CommandError(RuntimeError):
    """A command the driver depends on exited non-zero."""


def _say(message: str) -> None:
    print(message, flush=True)


def run_checked(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a short command, capturing its output; raise CommandError on failure."""
    completed = subprocess.run(  # noqa: S603 - argv is built by the driver, never by a shell
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and completed.returncode != 0:
        raise CommandError(
            f"command failed with exit code {completed.returncode}: {' '.join(argv)}\n"
            f"--- stdout ---\n{completed.stdout[-4000:]}\n"
            f"--- stderr ---\n{completed.stderr[-4000:]}"
        )
    return completed


def run_step(argv: Sequence[str], *, cwd: Path | None = None) -> str:
    """Run a setup command (pip and friends), echoing it; return its output."""
    _say("  $ " + " ".join(argv))
    completed = run_checked(argv, cwd=cwd)
    return completed.stdout


@dataclass(frozen=True)
class Finished:
    returncode: int
    timed_out: bool
    seconds: float


def run_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float,
    dump_signal: int | None = None,
) -> Finished:
    """Run a test suite with its output in ``log_path``, killing it after ``timeout`` s.

    The suite runs in its own session so that on time-out the whole process
    group (test workers included) is ended. When ``dump_signal`` is given it
    is sent first, so a suite that registered faulthandler on it writes every
    thread's stack to the log: that names the deadlock.
    """
    _say("  $ " + " ".join(argv) + f"   (log: {log_path})")
    start = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - argv is built by the driver
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _say(f"  ! timed out after {timeout:.0f} s; stopping the suite")
            _end_group(process, dump_signal)
        except BaseException:
            _end_group(process, None)
            raise
    return Finished(process.returncode, timed_out, time.monotonic() - start)


def _end_group(process: subprocess.Popen[bytes], dump_signal: int | None) -> None:
    group = process.pid  # start_new_session made the child its group leader
    if dump_signal is not None:
        _signal_group(group, dump_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    _signal_group(group, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signum: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - the driver targets POSIX CI machines
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)

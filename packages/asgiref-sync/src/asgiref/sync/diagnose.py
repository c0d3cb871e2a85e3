"""Diagnostics for the sync/async bridge: slow-lane warnings and a dump of its live state.

In a program::

    from asgiref.sync.diagnose import enable_diagnostics, install_dump_signal
    enable_diagnostics(threshold=2.0)    # or run with ASGIREF_DIAGNOSTICS=1
    install_dump_signal()                # `kill -USR1 <pid>` prints the bridge's state

From a shell::

    python -m asgiref.sync.diagnose [--threshold S] [--signal USR1] script.py [args...]
    python -m asgiref.sync.diagnose --pid PID [--signal USR1]

The first runs a script with diagnostics on and the dump signal installed; the
second asks such a process for a dump (it appears on that process's stderr).
"""

from __future__ import annotations

import argparse
import os
import runpy
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import IO, Any

from ._diagnostics import DEFAULT_THRESHOLD as DEFAULT_THRESHOLD
from ._diagnostics import END_OF_DUMP as END_OF_DUMP
from ._diagnostics import diagnostics_enabled as diagnostics_enabled
from ._diagnostics import disable_diagnostics as disable_diagnostics
from ._diagnostics import dump_bridge_state as dump_bridge_state
from ._diagnostics import enable_diagnostics as enable_diagnostics

__all__ = [
    "DEFAULT_THRESHOLD",
    "END_OF_DUMP",
    "diagnostics_enabled",
    "disable_diagnostics",
    "dump_bridge_state",
    "enable_diagnostics",
    "install_dump_signal",
]

_Handler = Callable[[int, FrameType | None], Any] | int | None


def install_dump_signal(
    signum: int | None = None, file: IO[str] | None = None
) -> _Handler | signal.Handlers:
    """Write :func:`dump_bridge_state` to ``file`` (stderr) whenever ``signum`` arrives.

    ``signum`` defaults to ``SIGUSR1``. Like any Python signal handler it runs
    in the main thread, between two bytecodes: a main thread blocked in a lock,
    a queue, ``select`` or ``sleep`` is interrupted for it. Must be called from
    the main thread. Returns the handler it replaced.
    """
    if signum is None:
        if not hasattr(signal, "SIGUSR1"):
            raise RuntimeError("this platform has no SIGUSR1: pass the signal to use")
        signum = signal.SIGUSR1

    def dump(_signum: int, _frame: FrameType | None) -> None:
        dump_bridge_state(file if file is not None else sys.stderr)

    return signal.signal(signum, dump)


def _signal_number(name: str) -> int:
    upper = name.upper()
    full = upper if upper.startswith("SIG") else "SIG" + upper
    number = getattr(signal, full, None)
    if not isinstance(number, int):
        raise SystemExit(f"unknown signal {name!r}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """The ``python -m asgiref.sync.diagnose`` command line."""
    parser = argparse.ArgumentParser(
        prog="python -m asgiref.sync.diagnose",
        description="Run a script with asgiref bridge diagnostics on, or ask one for a dump.",
    )
    parser.add_argument("--pid", type=int, help="send the dump signal to this process and exit")
    parser.add_argument("--signal", default="USR1", help="the dump signal (default USR1)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="warn about thread-sensitive calls waiting longer than this many seconds",
    )
    parser.add_argument("script", nargs="?", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    options = parser.parse_args(argv)
    signum = _signal_number(options.signal)
    if options.pid is not None:
        os.kill(options.pid, signum)
        return 0
    if options.script is None:
        parser.error("give a script to run, or --pid")
    if options.threshold <= 0:
        parser.error("--threshold must be positive")
    enable_diagnostics(options.threshold)
    install_dump_signal(signum)
    sys.argv = [options.script, *options.args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(options.script)))
    runpy.run_path(options.script, run_name="__main__")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

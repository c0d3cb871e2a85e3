"""Settings for Django's own test suite in a downstream run.

``runtests.py --settings=downstream_django_settings`` with this folder on
PYTHONPATH: Django's SQLite example settings from its ``tests/`` folder, plus
a test runner that records every test's outcome to a file, plus a stack dump
of every thread on SIGUSR1 (the driver sends it before killing a hung run).
"""

from __future__ import annotations

import faulthandler
import os
import signal
from pathlib import Path
from typing import IO

# Django's own SQLite settings, found on sys.path only when run from Django's tests/ folder.
from test_sqlite import *  # type: ignore[import-not-found]  # noqa: F403

TEST_RUNNER = "downstream_django_runner.RecordingRunner"

_dump_file: IO[str] | None = None


def _dump_stacks_on_sigusr1() -> None:
    """Each process (parallel workers too) dumps its threads into its own file.

    One file per process keeps the dumps of simultaneous workers apart.
    """
    global _dump_file  # noqa: PLW0603 - the file must outlive this call
    folder = os.environ.get("DOWNSTREAM_STACKS")
    if not folder:
        return
    _dump_file = (Path(folder) / f"stacks-{os.getpid()}.txt").open("w", encoding="utf-8")
    faulthandler.register(signal.SIGUSR1, file=_dump_file, all_threads=True)


_dump_stacks_on_sigusr1()
# Forked workers inherit the parent's registration and file; give them their own.
os.register_at_fork(after_in_child=_dump_stacks_on_sigusr1)

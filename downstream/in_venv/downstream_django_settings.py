"""Settings for Django's own test suite in a downstream run.

``runtests.py --settings=downstream_django_settings`` with this folder on
PYTHONPATH: Django's SQLite example settings from its ``tests/`` folder, plus
a test runner that records every test's outcome to a file, plus a stack dump
of every thread on SIGUSR1 (the driver sends it before killing a hung run).
"""

from __future__ import annotations

import faulthandler
import signal
import sys

# Django's own SQLite settings, found on sys.path only when run from Django's tests/ folder.
from test_sqlite import *  # type: ignore[import-not-found]  # noqa: F403

TEST_RUNNER = "downstream_django_runner.RecordingRunner"

faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The harness is a script folder, not an installed package: make ``diffharness`` importable
# the way ``python differential/run.py`` does.
DIFFERENTIAL = Path(__file__).resolve().parent.parent
if str(DIFFERENTIAL) not in sys.path:
    sys.path.insert(0, str(DIFFERENTIAL))


def _imports_asgiref(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import asgiref.sync"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def asgiref_python() -> str:
    """A Python with some asgiref installed; both sides of the planted-difference tests use it.

    ``nox -s differential`` passes the published venv's; elsewhere this Python, if it has one.
    """
    python = os.environ.get("DIFFERENTIAL_PYTHON") or sys.executable
    if not _imports_asgiref(python):
        pytest.skip(f"{python} cannot import asgiref; set DIFFERENTIAL_PYTHON")
    return python

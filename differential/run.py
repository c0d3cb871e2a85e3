"""Differential testing of our asgiref against the published asgiref 3.13.0.

    python differential/run.py --published PY --ours PY [--examples N] [--seed S|random]

Normally run through ``nox -s differential``; see differential/README.md or --help.
"""

from __future__ import annotations

import sys
from pathlib import Path

# A script folder, not an installed package: make ``diffharness`` importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from diffharness.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""A Channels site in production shape under load and faults, per asgiref side.

    python e2e/channels/run.py --side published=VENV/bin/python --side ours=VENV/bin/python

``nox -s e2e_channels`` makes the venvs and runs this; see e2e/channels/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver.cli import main

if __name__ == "__main__":
    sys.exit(main())

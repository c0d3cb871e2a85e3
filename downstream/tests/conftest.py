from __future__ import annotations

import sys
from pathlib import Path

# The driver is a script folder, not an installed package: make ``harness``
# importable the way ``python downstream/run.py`` does.
DOWNSTREAM = Path(__file__).resolve().parent.parent
if str(DOWNSTREAM) not in sys.path:
    sys.path.insert(0, str(DOWNSTREAM))

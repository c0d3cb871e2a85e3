from __future__ import annotations

import sys
from pathlib import Path

# The driver is a script folder, not an installed package: make ``driver`` importable the
# way ``python e2e/channels/run.py`` does.
HERE = Path(__file__).resolve().parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

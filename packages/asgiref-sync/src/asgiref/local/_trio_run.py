"""Is a trio run active in the calling thread? Answered without importing trio.

The bridge and ``Local`` ask only after asyncio has said "no loop here", so
asyncio users never pay for it, and a process that never imported trio cannot
be inside a trio run: one dictionary lookup answers for it.
"""

from __future__ import annotations

import sys

_modules = sys.modules


def in_trio_run() -> bool:
    """True when the calling thread is inside ``trio.run`` (a task or a run callback)."""
    trio = _modules.get("trio")
    if trio is None:
        return False
    try:
        return bool(trio.lowlevel.in_trio_run())
    except AttributeError:  # trio partly imported (this thread is importing it), or < 0.23
        return False

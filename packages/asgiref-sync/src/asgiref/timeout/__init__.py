"""Deprecated ``timeout`` context manager; use ``asyncio.timeout()`` on Python 3.11+.

Slated for removal after the 3.13 release line.
"""

from __future__ import annotations

from ._timeout import timeout as timeout

__all__ = ["timeout"]

timeout.__module__ = __name__

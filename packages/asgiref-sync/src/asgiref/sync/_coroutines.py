"""Detecting and marking coroutine functions the way the running Python does.

Python 3.12 added ``inspect.markcoroutinefunction``; before it, asyncio's
private ``_is_coroutine`` marker was the only way to make a plain callable
look like a coroutine function. The fallback can go once 3.11 support ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

if sys.version_info >= (3, 12):
    from inspect import iscoroutinefunction as iscoroutinefunction
    from inspect import markcoroutinefunction as markcoroutinefunction
else:
    import asyncio
    import asyncio.coroutines

    # asyncio.iscoroutinefunction recognises both ``async def`` and the marker
    # below; inspect.iscoroutinefunction does not see the marker before 3.12.
    iscoroutinefunction = asyncio.iscoroutinefunction

    _IS_COROUTINE_MARKER: object = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]

    def markcoroutinefunction(func: _F) -> _F:
        """Make ``asyncio.iscoroutinefunction(func)`` report True."""
        func._is_coroutine = _IS_COROUTINE_MARKER  # type: ignore[attr-defined]
        return func

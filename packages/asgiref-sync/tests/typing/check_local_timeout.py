"""Static checks for asgiref.local and asgiref.timeout (mypy/pyright strict; never executed)."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.local import Local
from asgiref.timeout import timeout
from typing_extensions import assert_type


def local_types() -> None:
    assert_type(Local(), Local)
    assert_type(Local(True), Local)
    assert_type(Local(thread_critical=True), Local)
    local = Local()
    assert_type(local.anything, Any)
    local.anything = 1
    del local.anything


async def timeout_types(loop: asyncio.AbstractEventLoop) -> None:
    manager = timeout(1.0)
    assert_type(manager, timeout)
    assert_type(timeout(None), timeout)
    assert_type(timeout(2, loop=loop), timeout)
    assert_type(manager.expired, bool)
    assert_type(manager.remaining, "float | None")
    async with manager as entered:
        assert_type(entered, timeout)
    with timeout(1) as entered_sync:
        assert_type(entered_sync, timeout)

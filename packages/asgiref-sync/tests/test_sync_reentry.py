"""Re-entering the same plain ThreadSensitiveContext object behaves like entering a fresh one."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async


@pytest.mark.anyio
async def test_second_exit_resets_the_active_context() -> None:
    context = ThreadSensitiveContext()
    for _ in range(3):
        async with context:
            assert SyncToAsync.thread_sensitive_context.get(None) is context
        assert SyncToAsync.thread_sensitive_context.get(None) is None
        assert context.token is None


@pytest.mark.anyio
async def test_reentered_context_still_gives_its_calls_one_thread() -> None:
    context = ThreadSensitiveContext()
    main = threading.current_thread()
    for _ in range(2):
        async with context:
            first = await sync_to_async(threading.current_thread)()
            second = await sync_to_async(threading.current_thread)()
        assert first is second
        assert first is not main
    async with context:
        inner = ThreadSensitiveContext()
        async with inner:
            # Nested plain contexts are no-ops: the outer object stays active.
            assert inner.token is None
            assert SyncToAsync.thread_sensitive_context.get(None) is context
        assert SyncToAsync.thread_sensitive_context.get(None) is context

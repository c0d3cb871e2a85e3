"""Run work in the thread that is waiting for it (the ``async_to_sync`` bridge executor)."""

from __future__ import annotations

from ._executor import CurrentThreadExecutor as CurrentThreadExecutor

__all__ = ["CurrentThreadExecutor"]

CurrentThreadExecutor.__module__ = __name__

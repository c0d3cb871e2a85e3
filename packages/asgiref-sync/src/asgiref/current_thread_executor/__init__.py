"""asgiref.current_thread_executor (being implemented)."""

from __future__ import annotations

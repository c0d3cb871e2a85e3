"""asgiref.server (being implemented)."""

from __future__ import annotations

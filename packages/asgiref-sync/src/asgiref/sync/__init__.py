"""asgiref.sync (being implemented)."""

from __future__ import annotations

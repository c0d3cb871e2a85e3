"""asgiref.typing (being implemented)."""

from __future__ import annotations

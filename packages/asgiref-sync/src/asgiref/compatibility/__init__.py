"""asgiref.compatibility (being implemented)."""

from __future__ import annotations

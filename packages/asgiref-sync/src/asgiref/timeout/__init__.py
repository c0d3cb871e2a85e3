"""asgiref.timeout (being implemented)."""

from __future__ import annotations

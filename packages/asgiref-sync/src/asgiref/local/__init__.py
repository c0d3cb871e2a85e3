"""asgiref.local (being implemented)."""

from __future__ import annotations

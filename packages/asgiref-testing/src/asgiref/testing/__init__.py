"""asgiref.testing (being implemented)."""

from __future__ import annotations

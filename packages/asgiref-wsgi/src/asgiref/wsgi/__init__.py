"""asgiref.wsgi (being implemented)."""

from __future__ import annotations

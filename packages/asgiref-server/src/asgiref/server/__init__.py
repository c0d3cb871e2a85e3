"""Base class for servers that multiplex logical ASGI connections over one transport."""

from __future__ import annotations

from ._stateless import StatelessServer as StatelessServer
from ._stateless import logger as logger

__all__ = ["StatelessServer", "logger"]

# Reprs, docs and pickles name the public path, not the private module.
StatelessServer.__module__ = __name__

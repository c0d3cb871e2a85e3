"""ASGI 2 ("double callable") to ASGI 3 ("single callable") adaptation."""

from __future__ import annotations

from ._callables import double_to_single_callable as double_to_single_callable
from ._callables import guarantee_single_callable as guarantee_single_callable
from ._callables import is_double_callable as is_double_callable

__all__ = ["double_to_single_callable", "guarantee_single_callable", "is_double_callable"]

# Reprs, docs and pickles name the public module, not the private one.
double_to_single_callable.__module__ = __name__
guarantee_single_callable.__module__ = __name__
is_double_callable.__module__ = __name__

"""Bytes-like values handed over by a server or an application, as ``bytes``."""

from __future__ import annotations


def as_bytes(value: object, refusal: str) -> bytes:
    """``value`` as ``bytes`` when it is bytes-like (bytes, bytearray, memoryview).

    Otherwise a ``TypeError`` with ``refusal``, its ``{}`` filled with the type's name.
    """
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    raise TypeError(refusal.format(type(value).__name__))

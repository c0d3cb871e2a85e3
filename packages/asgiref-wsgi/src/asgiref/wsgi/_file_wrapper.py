"""``wsgi.file_wrapper``: serve a file-like object as a response iterable (PEP 3333)."""

from __future__ import annotations

from typing import Protocol


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


DEFAULT_BLOCK_SIZE = 64 * 1024


class FileWrapper:
    """Iterate over ``filelike`` in blocks; ``close()`` closes it.

    Blocks are read in the WSGI worker thread, one at a time, as the server drains them,
    so a large file never sits in memory.
    """

    def __init__(self, filelike: _Readable, block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        if block_size <= 0:
            raise ValueError(f"block_size must be a positive number of bytes, got {block_size}")
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        block = self.filelike.read(self.block_size)
        if not block:
            raise StopIteration
        return block

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()

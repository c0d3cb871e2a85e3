"""The request body as the WSGI application reads it (``wsgi.input``).

The adapter reads the first part of the body on the event loop before the application
gets a thread (see ``_receiving``). What is left is pulled on demand: when the
application has read everything received so far, ``PulledBody`` asks the event loop for
more through ``fetch`` (an ``async_to_sync`` hop in the adapter), which receives the next
few hundred KiB and hands them back. Nothing is read ahead of the application, so memory
stays bounded and a fast uploader is held back by the application's pace.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

# What fetch returns: the chunks received, and whether the body is now complete.
Fetched = tuple[list[bytes], bool]


class PulledBody:
    """Body chunks for one WSGI thread: those already received, then fetched on demand."""

    def __init__(self, fetch: Callable[[], Fetched]) -> None:
        self._fetch = fetch
        self._chunks: deque[bytes] = deque()
        self._complete = False
        self._error: Callable[[], BaseException] | None = None

    def add(self, chunks: list[bytes], complete: bool) -> None:
        """Append chunks received before the application started (or by a fetch)."""
        self._chunks.extend(chunk for chunk in chunks if chunk)
        self._complete = complete

    def close(self, error: Callable[[], BaseException]) -> None:
        """The request is over: what is buffered can still be read, then ``error()``."""
        if not self._complete:
            self._error = error

    def take(self) -> bytes:
        """The next chunk; ``b""`` at the end of the body. Blocks while it is fetched."""
        while not self._chunks:
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error()
            chunks, complete = self._fetch()
            self.add(chunks, complete)
        return self._chunks.popleft()


class RequestBody:
    """``wsgi.input``: a read-only binary stream over the request body, read on demand."""

    def __init__(self, source: PulledBody) -> None:
        self._source = source
        self._chunk = b""
        self._pos = 0
        self._done = False

    def _next_chunk(self) -> bool:
        """Make the next chunk current; False at the end of the body."""
        if self._done:
            return False
        chunk = self._source.take()
        if not chunk:
            self._done = True
            return False
        self._chunk = chunk
        self._pos = 0
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all that is left when ``size`` is negative or None)."""
        if size is None or size < 0:
            return self._read_all()
        pieces: list[bytes] = []
        wanted = size
        while wanted > 0:
            available = len(self._chunk) - self._pos
            if not available:
                if not self._next_chunk():
                    break
                continue
            if self._pos == 0 and available <= wanted:
                # Hand over the whole chunk without copying it.
                piece = self._chunk
            else:
                piece = self._chunk[self._pos : self._pos + wanted]
            self._pos += len(piece)
            wanted -= len(piece)
            pieces.append(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _read_all(self) -> bytes:
        pieces = [self._chunk[self._pos :]] if self._pos < len(self._chunk) else []
        self._chunk = b""
        self._pos = 0
        while self._next_chunk():
            pieces.append(self._chunk)
        self._chunk = b""
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, up to and including ``b"\\n"`` (at most ``size`` bytes)."""
        limit = -1 if size is None else size
        pieces: list[bytes] = []
        taken = 0
        while limit < 0 or taken < limit:
            if self._pos >= len(self._chunk) and not self._next_chunk():
                break
            end = self._chunk.find(b"\n", self._pos)
            stop = len(self._chunk) if end < 0 else end + 1
            if limit >= 0:
                stop = min(stop, self._pos + limit - taken)
            piece = self._chunk[self._pos : stop]
            self._pos = stop
            taken += len(piece)
            pieces.append(piece)
            if piece.endswith(b"\n"):
                break
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the end of the body, or until ``hint`` bytes were read."""
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Nothing to release: the adapter owns the stream (PEP 3333 forbids closing it)."""

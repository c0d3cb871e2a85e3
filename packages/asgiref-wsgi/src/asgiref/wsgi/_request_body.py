"""The request body, streamed from the event loop to the WSGI thread (``wsgi.input``).

The event loop side (the adapter's receive pump) feeds ``http.request`` bodies into a
``BodyChannel``; the WSGI thread takes them out through ``RequestBody``. The channel holds
at most about ``high_water`` bytes: past that the pump stops calling ``receive()`` until
the application has read some, which is what pushes back on a fast uploader.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterator

from ._loop_waker import waker_for

DEFAULT_HIGH_WATER = 256 * 1024


class BodyChannel:
    """Body chunks on their way from the event loop (producer) to one WSGI thread."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, high_water: int = DEFAULT_HIGH_WATER
    ) -> None:
        self._loop = loop
        self._waker = waker_for(loop)
        self._high_water = high_water
        # The pump is woken when the buffer falls to half, so it refills in batches.
        self._low_water = high_water // 2
        self._lock = threading.Lock()
        # Held (acquired) while the reader waits for data; whoever brings data releases it.
        # A plain lock made on demand: most requests never wait, and a Condition per
        # request would cost more than the whole wait-free path.
        self._reader_waiting: threading.Lock | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._error: Callable[[], BaseException] | None = None
        self._space: asyncio.Future[None] | None = None
        # Only the event loop writes this; the reader reads it under the lock.
        self.eof = False

    # ------------------------------------------------------------------ event loop side

    def room(self) -> asyncio.Future[None] | None:
        """None when the pump may receive more; else a future resolved once there is room."""
        with self._lock:
            if self._buffered < self._high_water or self._error is not None:
                return None
            self._space = self._loop.create_future()
            return self._space

    def feed(self, chunk: bytes, more_body: bool) -> None:
        with self._lock:
            if chunk:
                self._chunks.append(chunk)
                self._buffered += len(chunk)
            if not more_body:
                self.eof = True
            self._wake_reader()

    def _wake_reader(self) -> None:
        """Release a waiting reader; call with the lock held."""
        waiting = self._reader_waiting
        if waiting is not None:
            self._reader_waiting = None
            waiting.release()

    def fail(self, error: Callable[[], BaseException]) -> None:
        """Make every read from now on raise ``error()``; what is buffered is dropped."""
        with self._lock:
            if self._error is None:
                self._error = error
                self._chunks.clear()
                self._buffered = 0
            self._wake_reader()

    def close(self, error: Callable[[], BaseException]) -> None:
        """The request is over: reads still return what arrived, then raise ``error()``."""
        with self._lock:
            if not self.eof and self._error is None:
                self._error = error
                # Keep what is buffered: it arrived before the request ended.
            self._wake_reader()

    # ------------------------------------------------------------------ WSGI thread side

    def take(self) -> bytes:
        """The next chunk; ``b""`` at the end of the body. Blocks until one is there."""
        while True:
            with self._lock:
                if self._chunks:
                    chunk = self._chunks.popleft()
                    self._buffered -= len(chunk)
                    space = self._space
                    if space is None or self._buffered > self._low_water:
                        return chunk
                    self._space = None
                    break
                if self._error is not None:
                    raise self._error()
                if self.eof:
                    return b""
                waiting = self._reader_waiting = threading.Lock()
                waiting.acquire()
            waiting.acquire()  # until feed/fail/close releases it
        self._waker.resolve(space)  # the pump waits for room: wake it
        return chunk


class RequestBody:
    """``wsgi.input``: a read-only binary stream over the request body, read on demand."""

    def __init__(self, channel: BodyChannel) -> None:
        self._channel = channel
        self._chunk = b""
        self._pos = 0
        self._done = False

    def _next_chunk(self) -> bool:
        """Make the next chunk current; False at the end of the body."""
        if self._done:
            return False
        chunk = self._channel.take()
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

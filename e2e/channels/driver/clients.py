"""Websocket chat clients (the websockets library), one asyncio task each.

A member joins one room and stays in it: when the server drops it (a fault), it
reconnects, which joins the group again. It sends with a window: at most ``window`` of
its own messages may be on their way (a message is on its way until the member sees
it come back, since a sender is also a member of its room), so load follows the
site's speed instead of piling up; an echo that never comes frees its slot after
``echo_timeout`` (that is how a fault's loss shows up to a sender).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .ledger import Ledger

CONNECT_TIMEOUT = 5.0
RECONNECT_PAUSE = 0.2


def now() -> float:
    return time.monotonic()


@dataclass
class Room:
    """A chat room: its Channels group, its kind (route@server) and its members."""

    group: str
    kind: str
    members: list[Member] = field(default_factory=list)

    def expected_now(self) -> list[str]:
        return [m.name for m in self.members if not m.dropped]


class Member:
    def __init__(self, name: str, room: Room, url: str, ledger: Ledger) -> None:
        self.name = name
        self.room = room
        self.url = url
        self.ledger = ledger
        self.ws: ClientConnection | None = None
        self.connected = asyncio.Event()
        self.dropped = False
        self.stopping = False
        self.connects = 0
        self.connect_failures = 0
        self.echo_timeouts = 0
        self.worker_echoes: Counter[int] = Counter()
        self._seq = 0
        self._outstanding: dict[int, float] = {}
        self._echo = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        room.members.append(self)

    # ------------------------------------------------------------------ connection

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not (self.dropped or self.stopping):
            try:
                ws = await connect(
                    self.url, open_timeout=CONNECT_TIMEOUT, close_timeout=2, ping_interval=None
                )
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI):
                self.connect_failures += 1
                await asyncio.sleep(RECONNECT_PAUSE)
                continue
            self.ws = ws
            self.connects += 1
            self.connected.set()
            try:
                async for raw in ws:
                    self._on_message(raw)
            except ConnectionClosed:
                pass
            finally:
                self.connected.clear()
                self.ws = None

    def _on_message(self, raw: str | bytes) -> None:
        at = now()
        body = json.loads(raw)
        sender, seq, via = str(body["s"]), int(body["n"]), str(body["via"])
        self.ledger.record_arrival(recipient=self.name, sender=sender, seq=seq, path=via, at=at)
        if sender == self.name:
            if self._outstanding.pop(seq, None) is not None and via == "worker":
                self.worker_echoes[int(body["w"])] += 1
            self._echo.set()

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout)
        return self.connected.is_set()

    def drop(self) -> None:
        """Leave abruptly: the TCP connection is cut with no websocket close frame."""
        self.dropped = True
        self.ledger.drop_recipient(self.name, now())
        if self.ws is not None:
            self.ws.transport.abort()

    async def stop(self, timeout: float = 5.0) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), timeout)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout)

    # ------------------------------------------------------------------ sending

    async def _wait_window(self, window: int, echo_timeout: float) -> None:
        while len(self._outstanding) >= window:
            oldest = min(self._outstanding.values())
            if now() - oldest > echo_timeout:
                stale = [s for s, t in self._outstanding.items() if now() - t > echo_timeout]
                for seq in stale:
                    del self._outstanding[seq]
                self.echo_timeouts += len(stale)
                continue
            self._echo.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._echo.wait(), 0.1)

    async def send_one(self, *, phase: str, task: bool, window: int, echo_timeout: float) -> bool:
        """Send the next message (a task if ``task``); False if no connection came in time."""
        await self._wait_window(window, echo_timeout)
        if not await self.wait_connected(echo_timeout):
            return False
        ws = self.ws
        if ws is None:
            return False
        seq = self._seq
        self._seq += 1
        path = "worker" if task else "room"
        self.ledger.record_send(
            sender=self.name,
            seq=seq,
            path=path,
            room=self.room.group,
            kind="worker" if task else self.room.kind,
            phase=phase,
            sent_at=now(),
            expected=self.room.expected_now(),
        )
        try:
            await ws.send(json.dumps({"s": self.name, "n": seq, "task": task}))
        except ConnectionClosed:
            self.ledger.forget_send(self.name, seq)
            return False
        self._outstanding[seq] = now()
        return True

    async def send_stream(
        self,
        *,
        phase: str,
        count: int | None,
        until: float | None,
        task_every: int,
        window: int,
        echo_timeout: float,
        pause: float = 0.0,
    ) -> int:
        """Send ``count`` messages, or until ``until`` (monotonic seconds); return how many."""
        sent = 0
        index = 0
        while (count is None or sent < count) and (until is None or now() < until):
            task = task_every > 0 and index % task_every == task_every - 1
            index += 1
            if await self.send_one(
                phase=phase, task=task, window=window, echo_timeout=echo_timeout
            ):
                sent += 1
            if pause:
                await asyncio.sleep(pause)
        return sent

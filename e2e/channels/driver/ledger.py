"""Delivery accounting: what was sent to whom, what arrived, and what went wrong.

Pure bookkeeping with no I/O and no clock of its own (every time is passed in), so the
rules that decide pass or fail are tested on their own (tests/test_ledger.py).

A message is identified by (sender, seq). When it is sent, the ledger is told which
members of the room are expected to receive it; every arrival is then one of:
the first arrival at an expected member (a delivery), a repeat (a duplicate), an arrival
at a member that was not expected (unexpected), or an arrival of a seq the sender never
sent (unknown). Order is checked per (recipient, sender, path) for the paths that keep
the sender's order: the room path (the consumer's own group_send) does, the worker path
(two workers popping one queue) legitimately does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

ORDERED_PATHS = frozenset({"room"})


@dataclass
class Sent:
    sender: str
    seq: int
    path: str
    room: str
    kind: str
    phase: str
    sent_at: float
    expected: frozenset[str]
    arrivals: dict[str, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.expected.issubset(self.arrivals)


@dataclass
class PhaseReport:
    """Figures for one phase; ``clean`` is True when the phase had no fault in it."""

    phase: str
    sent: int = 0
    expected_deliveries: int = 0
    delivered: int = 0
    lost: int = 0
    lost_messages: int = 0  # messages that reached no expected recipient at all
    duplicated: int = 0
    out_of_order: int = 0
    unexpected: int = 0
    unknown: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    # Where the errors are: "lost"/"duplicated"/... -> kind -> count; lost -> recipient -> count.
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    lost_by_recipient: dict[str, int] = field(default_factory=dict)
    first_sent: float = math.inf
    last_arrival: float = -math.inf

    @property
    def errors(self) -> int:
        """Every delivery fault: loss, duplication, reordering, strays."""
        return self.lost + self.duplicated + self.out_of_order + self.unexpected + self.unknown

    @property
    def seconds(self) -> float:
        if self.last_arrival < self.first_sent:
            return 0.0
        return self.last_arrival - self.first_sent

    def all_latencies(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


def percentile(values: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in [0, 1]); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within [0, 1], got {fraction!r}")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _Stray:
    phase: str
    what: str  # "duplicated" | "out_of_order" | "unexpected" | "unknown"
    kind: str = "?"


class Ledger:
    """Every message sent in a run and every arrival, grouped by phase."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, int], Sent] = {}
        # (recipient, sender, path) -> highest seq seen so far, for the order check.
        self._high: dict[tuple[str, str, str], int] = {}
        self._strays: list[_Stray] = []
        self._phase_of_arrival = ""

    def record_send(
        self,
        *,
        sender: str,
        seq: int,
        path: str,
        room: str,
        kind: str,
        phase: str,
        sent_at: float,
        expected: Iterable[str],
    ) -> None:
        key = (sender, seq)
        if key in self._sent:
            raise ValueError(f"{sender} sent seq {seq} twice: seqs must be unique per sender")
        self._sent[key] = Sent(sender, seq, path, room, kind, phase, sent_at, frozenset(expected))

    def forget_send(self, sender: str, seq: int) -> None:
        """Withdraw a send that never left the client (its connection was already gone)."""
        self._sent.pop((sender, seq), None)

    def record_arrival(
        self, *, recipient: str, sender: str, seq: int, path: str, at: float
    ) -> None:
        message = self._sent.get((sender, seq))
        if message is None:
            self._strays.append(_Stray(self._phase_of_arrival, "unknown"))
            return
        if recipient in message.arrivals:
            self._strays.append(_Stray(message.phase, "duplicated", message.kind))
            return
        if recipient not in message.expected:
            self._strays.append(_Stray(message.phase, "unexpected", message.kind))
            return
        message.arrivals[recipient] = at
        if path in ORDERED_PATHS:
            order_key = (recipient, sender, path)
            if seq < self._high.get(order_key, -1):
                self._strays.append(_Stray(message.phase, "out_of_order", message.kind))
            else:
                self._high[order_key] = seq

    def set_arrival_phase(self, phase: str) -> None:
        """The phase that an arrival of an unknown message is charged to."""
        self._phase_of_arrival = phase

    def messages(self, phase: str | None = None) -> list[Sent]:
        return [m for m in self._sent.values() if phase is None or m.phase == phase]

    def missing(self, phase: str) -> int:
        """Expected deliveries of ``phase`` that have not arrived (yet)."""
        return sum(len(m.expected) - len(m.arrivals) for m in self.messages(phase))

    def delivered_count(self) -> int:
        return sum(len(m.arrivals) for m in self._sent.values())

    def drop_recipient(self, recipient: str, at: float) -> None:
        """A member left on purpose at ``at``: it is no longer owed what arrived after."""
        for message in self._sent.values():
            owed = recipient in message.expected and recipient not in message.arrivals
            if owed and message.sent_at >= at:
                message.expected = message.expected - {recipient}

    def recovered_at(self, *, since: float, rooms: Iterable[str], path: str) -> float | None:
        """When every room had a message sent at/after ``since`` on ``path`` fully delivered.

        That is the moment new messages flow again after a fault: None while some room
        has not yet had one.
        """
        worst = -math.inf
        for room in rooms:
            done = [
                max(m.arrivals.values(), default=m.sent_at)
                for m in self._sent.values()
                if m.room == room
                and m.path == path
                and m.sent_at >= since
                and m.complete
                and m.expected
            ]
            if not done:
                return None
            worst = max(worst, min(done))
        return worst if worst > -math.inf else None

    def report(self, phase: str) -> PhaseReport:
        out = PhaseReport(phase)
        for message in self.messages(phase):
            out.sent += 1
            out.expected_deliveries += len(message.expected)
            out.delivered += len(message.arrivals)
            missing = len(message.expected) - len(message.arrivals)
            out.lost += missing
            if missing:
                _bump(out.by_kind, "lost", message.kind, missing)
                for recipient in message.expected - message.arrivals.keys():
                    out.lost_by_recipient[recipient] = out.lost_by_recipient.get(recipient, 0) + 1
            if message.expected and not message.arrivals:
                out.lost_messages += 1
            out.first_sent = min(out.first_sent, message.sent_at)
            for at in message.arrivals.values():
                out.latencies.setdefault(message.kind, []).append(at - message.sent_at)
                out.last_arrival = max(out.last_arrival, at)
        for stray in self._strays:
            if stray.phase == phase:
                setattr(out, stray.what, getattr(out, stray.what) + 1)
                _bump(out.by_kind, stray.what, stray.kind, 1)
        return out


def _bump(table: dict[str, dict[str, int]], what: str, kind: str, count: int) -> None:
    row = table.setdefault(what, {})
    row[kind] = row.get(kind, 0) + count

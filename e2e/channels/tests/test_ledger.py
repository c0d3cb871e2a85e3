"""The accounting rules that decide whether a run passes: loss, duplicates, order."""

from __future__ import annotations

import math

import pytest
from driver.ledger import Ledger, percentile


def _send(
    ledger: Ledger,
    seq: int,
    *,
    sender: str = "a",
    path: str = "room",
    at: float = 0.0,
    expected: tuple[str, ...] = ("a", "b"),
    phase: str = "clean",
) -> None:
    ledger.record_send(
        sender=sender,
        seq=seq,
        path=path,
        room="r1",
        kind="sync",
        phase=phase,
        sent_at=at,
        expected=expected,
    )


def test_every_expected_arrival_once_is_clean() -> None:
    ledger = Ledger()
    for seq in range(3):
        _send(ledger, seq, at=float(seq))
        for member in ("a", "b"):
            ledger.record_arrival(recipient=member, sender="a", seq=seq, path="room", at=seq + 0.5)
    report = ledger.report("clean")
    assert (report.sent, report.expected_deliveries, report.delivered) == (3, 6, 6)
    assert report.errors == 0
    assert report.latencies["sync"] == [0.5] * 6
    assert ledger.missing("clean") == 0


def test_a_missing_arrival_is_a_loss_and_a_message_nobody_got_is_counted_too() -> None:
    ledger = Ledger()
    _send(ledger, 0)
    _send(ledger, 1)
    ledger.record_arrival(recipient="a", sender="a", seq=0, path="room", at=1.0)
    report = ledger.report("clean")
    assert (report.lost, report.lost_messages) == (3, 1)
    assert ledger.missing("clean") == 3


def test_a_repeat_is_a_duplicate_not_a_delivery() -> None:
    ledger = Ledger()
    _send(ledger, 0)
    for _ in range(2):
        ledger.record_arrival(recipient="b", sender="a", seq=0, path="room", at=1.0)
    report = ledger.report("clean")
    assert (report.delivered, report.duplicated, report.lost) == (1, 1, 1)


def test_order_is_checked_per_recipient_and_sender_on_the_room_path_only() -> None:
    ledger = Ledger()
    for seq in range(2):
        _send(ledger, seq, path="room")
        _send(ledger, seq + 10, path="worker")
        _send(ledger, seq, sender="z")
    # Room path, b sees a:1 before a:0 -> one reorder; z's stream is independent.
    ledger.record_arrival(recipient="b", sender="a", seq=1, path="room", at=1.0)
    ledger.record_arrival(recipient="b", sender="a", seq=0, path="room", at=1.1)
    ledger.record_arrival(recipient="b", sender="z", seq=0, path="room", at=1.2)
    # Worker path: two workers may reorder, that is not an error.
    ledger.record_arrival(recipient="b", sender="a", seq=11, path="worker", at=1.3)
    ledger.record_arrival(recipient="b", sender="a", seq=10, path="worker", at=1.4)
    assert ledger.report("clean").out_of_order == 1


def test_a_gap_in_the_sequence_is_loss_not_reordering() -> None:
    ledger = Ledger()
    for seq in range(3):
        _send(ledger, seq, expected=("b",))
    ledger.record_arrival(recipient="b", sender="a", seq=0, path="room", at=1.0)
    ledger.record_arrival(recipient="b", sender="a", seq=2, path="room", at=1.0)
    report = ledger.report("clean")
    assert (report.out_of_order, report.lost) == (0, 1)


def test_strays_are_charged_to_their_phase() -> None:
    ledger = Ledger()
    _send(ledger, 0, phase="fault")
    ledger.record_arrival(recipient="x", sender="a", seq=0, path="room", at=1.0)
    ledger.set_arrival_phase("clean")
    ledger.record_arrival(recipient="a", sender="nobody", seq=5, path="room", at=1.0)
    assert ledger.report("fault").unexpected == 1
    assert ledger.report("clean").unknown == 1
    assert ledger.report("clean").sent == 0


def test_a_member_that_left_on_purpose_is_owed_nothing_sent_after() -> None:
    ledger = Ledger()
    _send(ledger, 0, at=1.0)
    _send(ledger, 1, at=5.0)
    ledger.drop_recipient("b", at=3.0)
    for seq in (0, 1):
        ledger.record_arrival(recipient="a", sender="a", seq=seq, path="room", at=6.0)
    # b still owes seq 0 (sent while b was a member), not seq 1.
    assert ledger.report("clean").lost == 1


def test_a_seq_sent_twice_is_a_driver_bug() -> None:
    ledger = Ledger()
    _send(ledger, 0)
    with pytest.raises(ValueError, match="twice"):
        _send(ledger, 0)


def test_a_withdrawn_send_is_owed_to_nobody() -> None:
    ledger = Ledger()
    _send(ledger, 0)
    ledger.forget_send("a", 0)
    assert ledger.report("clean").sent == 0


def test_recovery_is_when_every_room_has_a_fully_delivered_message_after_the_fault() -> None:
    ledger = Ledger()
    for room, seq, at in (("r1", 0, 1.0), ("r1", 1, 3.0), ("r2", 2, 4.0)):
        ledger.record_send(
            sender="a",
            seq=seq,
            path="room",
            room=room,
            kind="k",
            phase="fault",
            sent_at=at,
            expected=("b",),
        )
    ledger.record_arrival(recipient="b", sender="a", seq=0, path="room", at=1.5)
    assert ledger.recovered_at(since=2.0, rooms=["r1", "r2"], path="room") is None
    ledger.record_arrival(recipient="b", sender="a", seq=1, path="room", at=3.5)
    assert ledger.recovered_at(since=2.0, rooms=["r1", "r2"], path="room") is None
    ledger.record_arrival(recipient="b", sender="a", seq=2, path="room", at=4.25)
    assert ledger.recovered_at(since=2.0, rooms=["r1", "r2"], path="room") == 4.25


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError, match="within"):
        percentile(values, 1.5)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from diffharness import known
from diffharness.compare import Difference

DIFFERENTIAL = Path(__file__).resolve().parent.parent


def difference(signature: str, published: object, ours: object) -> Difference:
    return Difference(0, "/1", signature, published, ours)


def write(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "known.json"
    path.write_text(json.dumps({"known": entries}))
    return path


def test_the_shipped_file_loads_and_every_deviation_is_listed() -> None:
    entries = known.load(DIFFERENTIAL / "known.json")
    assert known.unlisted_deviations(entries, DIFFERENTIAL.parent / "DEVIATIONS.md") == []


def test_an_entry_matches_by_signature_pattern_and_partial_events(tmp_path: Path) -> None:
    (entry,) = known.load(
        write(
            tmp_path,
            [
                {
                    "id": "tsc-leak",
                    "deviation": "sync-tsc",
                    "signature": "tsc.*",
                    "published": {"after": "none"},
                    "ours": {"after": "c0"},
                    "reason": "see DEVIATIONS.md#tsc",
                }
            ],
        )
    )
    assert entry.matches(difference("tsc.after", {"ev": "tsc", "after": "none"}, {"after": "c0"}))
    assert not entry.matches(difference("tsc.after", {"after": "none"}, {"after": "c1"}))
    assert not entry.matches(difference("peek.tsctx", {"after": "none"}, {"after": "c0"}))


def test_nested_partial_events_match_recursively(tmp_path: Path) -> None:
    (entry,) = known.load(
        write(
            tmp_path,
            [
                {
                    "id": "x",
                    "deviation": "local-internals",
                    "signature": "ldel.exc*",
                    "ours": {"exc": {"type": "AttributeError"}},
                    "reason": "r",
                }
            ],
        )
    )
    ours = {"ev": "ldel", "exc": {"type": "AttributeError", "msg": "..."}}
    assert entry.matches(difference("ldel.exc[l=0]", {}, ours))
    assert not entry.matches(difference("ldel.exc[l=0]", {}, {"ev": "ldel", "ok": True}))


@pytest.mark.parametrize(
    ("entries", "complaint"),
    [
        ([{"id": "a", "deviation": "d", "signature": "x"}], "lacks reason"),
        ([{"id": "a", "signature": "x", "reason": "r"}], "lacks deviation"),
        (
            [{"id": "a", "deviation": "d", "signature": "x", "reason": "r", "why": "?"}],
            "unknown keys",
        ),
        (
            [
                {"id": "a", "deviation": "d", "signature": "x", "reason": "r"},
                {"id": "a", "deviation": "d", "signature": "y", "reason": "r"},
            ],
            "duplicate ids",
        ),
    ],
)
def test_malformed_entries_are_refused(
    tmp_path: Path, entries: list[dict[str, object]], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        known.load(write(tmp_path, entries))


def test_an_unlisted_deviation_is_reported(tmp_path: Path) -> None:
    deviations = tmp_path / "DEVIATIONS.md"
    deviations.write_text("- **`listed-one`**: why\n")
    entries = known.load(
        write(
            tmp_path,
            [
                {"id": "a", "deviation": "listed-one", "signature": "x", "reason": "r"},
                {"id": "b", "deviation": "not-listed", "signature": "y", "reason": "r"},
            ],
        )
    )
    assert known.unlisted_deviations(entries, deviations) == ["b -> not-listed"]


def test_a_tilde_string_is_a_pattern(tmp_path: Path) -> None:
    (entry,) = known.load(
        write(
            tmp_path,
            [
                {
                    "id": "aliased",
                    "deviation": "d",
                    "signature": "frame.thread",
                    "published": {"thread": "~f*"},
                    "ours": {"thread": "~f*"},
                    "reason": "r",
                }
            ],
        )
    )
    assert entry.matches(difference("frame.thread", {"thread": "f2"}, {"thread": "f1"}))
    assert not entry.matches(difference("frame.thread", {"thread": "f2"}, {"thread": "main"}))

"""Per-test outcomes of one suite run, and how two runs compare."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"
XFAILED = "xfailed"  # expected failure that failed: counts as a pass
XPASSED = "xpassed"  # unexpected success: unittest counts it as a failure
MISSING = "missing"  # the test did not report at all (crash, time-out, import error)

# Worst first: a test that reported several outcomes (subtests) keeps the worst.
_SEVERITY = (ERROR, FAILED, XPASSED, MISSING, SKIPPED, XFAILED, PASSED)
GOOD = frozenset({PASSED, XFAILED})


def worse(first: str, second: str) -> str:
    return first if _SEVERITY.index(first) <= _SEVERITY.index(second) else second


@dataclass
class Outcomes:
    """``test id -> outcome`` plus the failure text for what did not pass."""

    results: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, test_id: str, outcome: str, detail: str = "") -> None:
        previous = self.results.get(test_id)
        self.results[test_id] = outcome if previous is None else worse(previous, outcome)
        if detail and outcome not in GOOD:
            self.details[test_id] = (self.details.get(test_id, "") + "\n" + detail).strip()

    def counts(self) -> dict[str, int]:
        counted = Counter(self.results.values())
        return {
            name: counted.get(name, 0)
            for name in (PASSED, FAILED, ERROR, SKIPPED, XFAILED, XPASSED)
        }

    def to_json(self) -> dict[str, object]:
        return {"results": self.results, "details": self.details, "seconds": self.seconds}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcomes:
        return cls(
            results=dict(data["results"]),
            details=dict(data["details"]),
            seconds=dict(data.get("seconds") or {}),
        )


def read_recorded_events(path: Path) -> Outcomes:
    """Outcomes from the JSON-lines file the recording Django runner writes."""
    outcomes = Outcomes()
    if not path.is_file():
        return outcomes
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a killed run
        if event["outcome"] == "duration":
            outcomes.seconds[event["id"]] = float(event["seconds"])
        else:
            outcomes.add(event["id"], event["outcome"], event.get("detail", ""))
    return outcomes


def read_junit(path: Path) -> Outcomes:
    """Outcomes from a pytest JUnit XML report (xunit2)."""
    outcomes = Outcomes()
    if not path.is_file():
        return outcomes
    root = ET.parse(path).getroot()  # noqa: S314 - written by pytest in this run
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        test_id = f"{classname}::{case.get('name', '')}" if classname else case.get("name", "")
        outcome, detail = PASSED, ""
        for child in case:
            text = ((child.get("message") or "") + "\n" + (child.text or "")).strip()
            if child.tag == "failure":
                outcome, detail = worse(outcome, FAILED), text
            elif child.tag == "error":
                outcome, detail = worse(outcome, ERROR), text
            elif child.tag == "skipped":
                kind = XFAILED if child.get("type") == "pytest.xfail" else SKIPPED
                outcome, detail = worse(outcome, kind), text
        outcomes.add(test_id, outcome, detail)
        outcomes.seconds[test_id] = float(case.get("time") or 0.0)
    return outcomes


@dataclass(frozen=True)
class Comparison:
    """How ours did against the published asgiref, test by test."""

    regressions: list[str]  # passed (or skipped) with published, failed/missing with ours
    failing_both: list[str]  # failed, errored or missing either way
    fixed: list[str]  # did not pass with published, passes with ours
    skip_changes: list[str]  # skipped on exactly one side, failing on neither


def classify(before: str, after: str) -> str | None:
    """Name the comparison bucket for one test, or None when nothing changed."""
    if before in GOOD:
        return None if after in GOOD else "regressions"
    if before == SKIPPED:
        if after == SKIPPED:
            return None
        # A skip with published that fails with ours is ours breaking a test
        # that the published asgiref at least got to skip cleanly.
        return "skip_changes" if after in GOOD else "regressions"
    if after in GOOD:
        return "fixed"
    return "skip_changes" if after == SKIPPED else "failing_both"


def compare(published: Outcomes, ours: Outcomes) -> Comparison:
    buckets: dict[str, list[str]] = {
        "regressions": [],
        "failing_both": [],
        "fixed": [],
        "skip_changes": [],
    }
    for test_id in sorted(set(published.results) | set(ours.results)):
        bucket = classify(
            published.results.get(test_id, MISSING), ours.results.get(test_id, MISSING)
        )
        if bucket is not None:
            buckets[bucket].append(test_id)
    return Comparison(**buckets)


def slowdowns(
    published: Outcomes, ours: Outcomes, *, limit: int, floor: float = 0.05
) -> list[tuple[str, float, float]]:
    """Tests that took longest extra with ours: ``(id, published s, ours s)``.

    Tests quicker than ``floor`` on both sides are ignored: their times are noise.
    """
    rows = [
        (test_id, before, ours.seconds[test_id])
        for test_id, before in published.seconds.items()
        if test_id in ours.seconds and max(before, ours.seconds[test_id]) >= floor
    ]
    rows.sort(key=lambda row: row[2] - row[1], reverse=True)
    return [row for row in rows[:limit] if row[2] > row[1]]

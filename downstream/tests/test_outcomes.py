from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness.outcomes import (
    ERROR,
    FAILED,
    MISSING,
    PASSED,
    SKIPPED,
    XFAILED,
    XPASSED,
    Outcomes,
    classify,
    compare,
    read_junit,
    read_recorded_events,
    slowdowns,
)


@pytest.mark.parametrize(
    ("before", "after", "bucket"),
    [
        (PASSED, PASSED, None),
        (PASSED, XFAILED, None),
        (PASSED, FAILED, "regressions"),
        (PASSED, ERROR, "regressions"),
        (PASSED, MISSING, "regressions"),
        (PASSED, SKIPPED, "regressions"),
        (PASSED, XPASSED, "regressions"),
        (SKIPPED, SKIPPED, None),
        (SKIPPED, FAILED, "regressions"),
        (SKIPPED, MISSING, "regressions"),
        (SKIPPED, PASSED, "skip_changes"),
        (FAILED, FAILED, "failing_both"),
        (FAILED, ERROR, "failing_both"),
        (ERROR, MISSING, "failing_both"),
        (MISSING, FAILED, "failing_both"),
        (FAILED, PASSED, "fixed"),
        (MISSING, PASSED, "fixed"),
        (FAILED, SKIPPED, "skip_changes"),
    ],
)
def test_classify(before: str, after: str, bucket: str | None) -> None:
    assert classify(before, after) == bucket


def test_compare_buckets_every_test_once() -> None:
    published = Outcomes(
        results={"a": PASSED, "b": PASSED, "c": FAILED, "d": FAILED, "e": SKIPPED, "f": PASSED}
    )
    ours = Outcomes(results={"a": PASSED, "b": ERROR, "c": FAILED, "d": PASSED, "e": SKIPPED})
    comparison = compare(published, ours)
    assert comparison.regressions == ["b", "f"]  # f never reported with ours
    assert comparison.failing_both == ["c"]
    assert comparison.fixed == ["d"]
    assert comparison.skip_changes == []


def test_a_failing_subtest_outweighs_a_later_success() -> None:
    outcomes = Outcomes()
    outcomes.add("t", FAILED, "boom")
    outcomes.add("t", PASSED)
    assert outcomes.results == {"t": FAILED}
    assert outcomes.details == {"t": "boom"}
    assert outcomes.counts()[FAILED] == 1


def test_recorded_events_survive_a_cut_off_last_line(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = [
        json.dumps({"id": "m.C.test_a", "outcome": "passed", "detail": ""}),
        json.dumps({"id": "m.C.test_a", "outcome": "duration", "seconds": 0.5}),
        json.dumps({"id": "m.C.test_b", "outcome": "error", "detail": "Traceback"}),
        '{"id": "m.C.test_c", "outc',  # the run was killed mid-write
    ]
    events.write_text("\n".join(lines), encoding="utf-8")
    outcomes = read_recorded_events(events)
    assert outcomes.results == {"m.C.test_a": PASSED, "m.C.test_b": ERROR}
    assert outcomes.seconds == {"m.C.test_a": 0.5}
    assert outcomes.details == {"m.C.test_b": "Traceback"}


def test_missing_event_file_means_no_outcomes(tmp_path: Path) -> None:
    assert read_recorded_events(tmp_path / "absent.jsonl").results == {}
    assert read_junit(tmp_path / "absent.xml").results == {}


def test_junit_outcomes(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.test_x.TestX" name="test_ok" time="0.25"/>
  <testcase classname="tests.test_x.TestX" name="test_bad" time="1.0">
    <failure message="assert 1 == 2">trace</failure>
  </testcase>
  <testcase classname="tests.test_x" name="test_broken_fixture" time="0">
    <error message="fixture failed">trace</error>
  </testcase>
  <testcase classname="tests.test_x" name="test_skip" time="0">
    <skipped type="pytest.skip" message="no network">skip</skipped>
  </testcase>
  <testcase classname="tests.test_x" name="test_xfail" time="0">
    <skipped type="pytest.xfail" message="known">xfail</skipped>
  </testcase>
  <testcase classname="" name="tests.test_y" time="0">
    <error message="collection failure">ImportError</error>
  </testcase>
</testsuite></testsuites>
""",
        encoding="utf-8",
    )
    outcomes = read_junit(report)
    assert outcomes.results == {
        "tests.test_x.TestX::test_ok": PASSED,
        "tests.test_x.TestX::test_bad": FAILED,
        "tests.test_x::test_broken_fixture": ERROR,
        "tests.test_x::test_skip": SKIPPED,
        "tests.test_x::test_xfail": XFAILED,
        "tests.test_y": ERROR,
    }
    assert outcomes.details["tests.test_x.TestX::test_bad"] == "assert 1 == 2\ntrace"
    assert outcomes.seconds["tests.test_x.TestX::test_bad"] == 1.0


def test_slowdowns_ignore_noise_and_speedups() -> None:
    published = Outcomes(seconds={"fast": 0.001, "slow": 1.0, "quicker": 2.0, "gone": 5.0})
    ours = Outcomes(seconds={"fast": 0.04, "slow": 3.0, "quicker": 1.0})
    assert slowdowns(published, ours, limit=5) == [("slow", 1.0, 3.0)]


def test_outcomes_round_trip_through_json() -> None:
    outcomes = Outcomes(results={"a": FAILED}, details={"a": "why"}, seconds={"a": 1.5})
    again = Outcomes.from_json(json.loads(json.dumps(outcomes.to_json())))
    assert again == outcomes

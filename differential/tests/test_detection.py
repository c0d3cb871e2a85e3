"""End to end: a difference planted on one side is found, shrunk, reported, and suppressible.

Both sides run the same asgiref; ``DIFFERENTIAL_PLANT`` makes the runner on "our" side report
``"planted"`` for a Local read ("lget") or for the thread ("thread") inside a
thread_sensitive=False sync_to_async call, or hang on a ``raise`` step whose message is "hang".
"""

from __future__ import annotations

import json
from pathlib import Path

from diffharness.cli import main
from diffharness.compare import differences
from diffharness.explore import Plan, explore
from diffharness.known import KnownDifference
from diffharness.programs import SEED_BATCHES
from diffharness.runners import Runner, run_both

MINIMAL = {
    "steps": [
        {
            "k": "a2s",
            "fnl": False,
            "body": [{"k": "s2a", "ts": False, "body": [{"k": "lget", "l": 0, "a": "a"}]}],
        }
    ]
}
# A seed and count under which the search reaches the planted difference quickly.
PLAN = Plan(examples=60, seed=1, timeout=15.0, budget=40.0)


def test_same_asgiref_on_both_sides_gives_identical_traces(asgiref_python: str) -> None:
    published, ours = Runner("published", asgiref_python), Runner("ours", asgiref_python)
    try:
        outcome = explore(published, ours, [], Plan(examples=25, seed=7, timeout=15.0))
    finally:
        published.close()
        ours.close()
    assert outcome.findings == {}
    assert outcome.batches_run == 25 + len(SEED_BATCHES)
    assert not outcome.flaky


def test_a_planted_difference_is_found_shrunk_and_reported(
    asgiref_python: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    args = ["--published", asgiref_python, "--ours", asgiref_python, "--plant-ours", "lget"]
    args += ["--examples", str(PLAN.examples), "--seed", str(PLAN.seed)]
    args += ["--budget", str(PLAN.budget), "--report", str(report)]
    args += ["--known", str(write_known(tmp_path, []))]
    assert main(args) == 1
    document = json.loads(report.read_text())
    (finding,) = document["findings"]
    assert finding["signature"] == "lget.v[l=0]"
    assert finding["shrunk"]
    assert finding["batch"] == [MINIMAL]
    (first,) = finding["differences"]
    assert first["ours"]["v"] == "planted"
    assert first["published"]["v"] == "<unset>"


def test_report_only_does_not_fail(asgiref_python: str, tmp_path: Path) -> None:
    # "thread" plants in every pooled frame, which the seed batches already reach.
    args = ["--published", asgiref_python, "--ours", asgiref_python, "--plant-ours", "thread"]
    args += ["--examples", "1", "--budget", "10"]
    args += ["--report", str(tmp_path / "r.json"), "--report-only"]
    assert main(args) == 0


def test_a_known_entry_suppresses_the_planted_difference(asgiref_python: str) -> None:
    entry = KnownDifference(
        id="planted",
        deviation="none: the harness's own test",
        signature="frame.thread",
        ours={"thread": "planted"},
        reason="the harness's own test (DEVIATIONS.md: none)",
    )
    published, ours = (
        Runner("published", asgiref_python),
        Runner("ours", asgiref_python, plant="thread"),
    )
    try:
        outcome = explore(published, ours, [entry], Plan(examples=1, seed=3, timeout=15.0))
    finally:
        published.close()
        ours.close()
    assert outcome.findings == {}
    assert outcome.known_seen["planted"] > 0


def test_a_hang_is_reported_and_the_rest_of_the_batch_skipped(asgiref_python: str) -> None:
    hang = {"steps": [{"k": "raise", "t": "ValueError", "m": "hang"}]}
    after = {"steps": [{"k": "peek"}]}
    published, ours = (
        Runner("published", asgiref_python),
        Runner("ours", asgiref_python, plant="hang"),
    )
    try:
        left, right = run_both(published, ours, [hang, after], timeout=1.0)
        # The server survives a killed child: the next batch runs normally.
        again, _ = run_both(published, ours, [after], timeout=5.0)
    finally:
        published.close()
        ours.close()
    assert right == [[{"ev": "hang"}], [{"ev": "skipped"}]]
    assert left[0][-1]["ev"] == "escaped"
    assert [d.signature for d in differences(left, right)] == ["hang:ours", "skipped:ours"]
    assert again[0][0] == {"ev": "frame", "n": 0, "thread": "main"}


def write_known(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "known.json"
    path.write_text(json.dumps({"known": entries}))
    return path

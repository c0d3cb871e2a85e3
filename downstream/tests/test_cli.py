"""The verdict a target gets from its two sides (no suite is run here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness.cli import Run, _parse_args
from harness.outcomes import Outcomes
from harness.sources import Source
from harness.targets import Target

TARGET = Target("django", "latest", "3.12")
SOURCE = Source("django", "6.1.3", Path("sdist"), Path("tree"), Path("wheel"))


def _side(variant: str, results: dict[str, str], **extra: Any) -> dict[str, Any]:
    outcomes = Outcomes()
    for test_id, outcome in results.items():
        outcomes.add(test_id, outcome, "why" if outcome != "passed" else "")
    side: dict[str, Any] = {
        "variant": variant,
        "asgiref_version": "3.13.0",
        "counts": outcomes.counts(),
        "outcomes": outcomes.to_json(),
        "setup_error": None,
        "proof_problems": [],
        "timed_out": False,
        "test_seconds": 1.0,
        "setup_seconds": 1.0,
        "returncode": 0,
        "date": "today",
    }
    side.update(extra)
    return side


def _conclude(
    tmp_path: Path, argv: list[str], published: dict[str, Any] | None, ours: dict[str, Any] | None
) -> tuple[Run, dict[str, Any]]:
    run = Run(_parse_args(["--cache-dir", str(tmp_path), *argv]))
    store: dict[str, Any] = {}
    run._conclude(TARGET, SOURCE, "3.12.1", {"published": published, "ours": ours}, store)
    return run, store[TARGET.key]


def test_same_outcomes_are_compatible(tmp_path: Path) -> None:
    results = {"a": "passed", "b": "failed"}
    run, entry = _conclude(tmp_path, [], _side("published", results), _side("ours", results))
    assert entry["verdict"] == "compatible"
    assert entry["failing_both_ids"] == ["b"]
    assert run.failures == []
    assert run.passed_targets == 1


def test_a_regression_fails_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reruns: list[list[str]] = []

    def confirm(
        self: Run, target: Target, source: Source, regressions: list[str], *, timed_out: bool
    ) -> dict[str, list[str]]:
        reruns.append(regressions)
        assert not timed_out
        return {"reproduced_ids": regressions, "intermittent_ids": []}

    monkeypatch.setattr(Run, "_confirm", confirm)
    run, entry = _conclude(
        tmp_path,
        [],
        _side("published", {"a": "passed", "b": "passed"}),
        _side("ours", {"a": "passed", "b": "error"}),
    )
    assert entry["verdict"] == "1 tests regress with ours"
    assert entry["regression_ids"] == entry["reproduced_ids"] == ["b"]
    assert reruns == [["b"]]
    assert run.failures == ["django-latest@3.12: 1 tests regress with ours"]
    assert run.passed_targets == 0


def test_ours_without_a_baseline_cannot_pass(tmp_path: Path) -> None:
    run, entry = _conclude(tmp_path, ["--only", "ours"], None, _side("ours", {"a": "passed"}))
    assert entry["verdict"] == "no published-asgiref baseline to compare with"
    assert run.passed_targets == 0


def test_a_baseline_alone_passes(tmp_path: Path) -> None:
    run, entry = _conclude(tmp_path, ["--only", "published"], _side("published", {}), None)
    assert entry["verdict"] == "ours not run"
    assert run.failures == []
    assert run.passed_targets == 1


def test_a_failed_proof_fails_even_without_test_results(tmp_path: Path) -> None:
    ours = _side("ours", {}, counts=None, proof_problems=["asgiref 3.13.0 ... is not ours"])
    run, entry = _conclude(tmp_path, [], _side("published", {"a": "passed"}), ours)
    assert entry["verdict"] == "proof that ours is installed failed"
    assert run.passed_targets == 0


def test_a_time_out_fails_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Run, "_confirm", lambda *args, **kwargs: {})
    ours = _side("ours", {"a": "passed"}, timed_out=True)
    run, entry = _conclude(tmp_path, [], _side("published", {"a": "passed", "b": "passed"}), ours)
    assert entry["verdict"] == "ours side timed out; 1 tests regress with ours"
    assert entry["regression_ids"] == ["b"]
    assert run.passed_targets == 0


def test_an_older_baseline_is_noted(tmp_path: Path) -> None:
    published = _side("published", {"a": "passed"}, asgiref_version="3.12.1")
    _run, entry = _conclude(tmp_path, [], published, _side("ours", {"a": "passed"}))
    assert entry["notes"] == [
        "the newest published asgiref that installs on Python 3.12.1 is 3.12.1"
    ]

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness.report import README_END, README_START, results_markdown, table, update_readme


def _entry(project: str, version: str, python: str, **extra: Any) -> dict[str, Any]:
    side = {
        "asgiref_version": "3.13.0",
        "counts": {"passed": 10, "failed": 1, "error": 0, "skipped": 2},
        "setup_error": False,
        "timed_out": False,
    }
    entry: dict[str, Any] = {
        "project": project,
        "project_version": version,
        "python": python,
        "published": side,
        "ours": side,
        "regressions": 0,
        "verdict": "compatible",
        "date": "2026-11-23 20:00 UTC",
        "commit": "abc1234",
    }
    entry.update(extra)
    return entry


STORE = {
    "daphne-latest-py3.12": _entry("daphne", "4.2.3", "3.12.1"),
    "django-5.2-py3.10": _entry(
        "django", "5.2.19", "3.10.13", failing_both_ids=["i18n.T.test_no_write_access"]
    ),
    "django-latest-py3.12": _entry("django", "6.1.3", "3.12.1"),
}


def test_table_rows_sorted_newest_first_within_a_project() -> None:
    lines = table(STORE).splitlines()
    assert lines[0].startswith("| Project | Version | Python |")
    assert [line.split(" | ")[0:3] for line in lines[2:]] == [
        ["| Daphne", "4.2.3", "3.12.1"],
        ["| Django", "6.1.3", "3.12.1"],
        ["| Django", "5.2.19", "3.10.13"],
    ]
    assert "10 passed, 1 failed, 0 errors, 2 skipped" in lines[2]


def test_results_markdown_lists_tests_failing_either_way() -> None:
    text = results_markdown(STORE)
    assert "Failing with the published asgiref and with ours (1):" in text
    assert "- `i18n.T.test_no_write_access`" in text


def test_update_readme_replaces_only_the_marked_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold table\n{README_END}\noutro\n", encoding="utf-8")
    update_readme(readme, STORE)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"intro\n{README_START}\n| Project |")
    assert text.endswith(f"{README_END}\noutro\n")
    assert "old table" not in text
    update_readme(readme, STORE)
    assert readme.read_text(encoding="utf-8") == text


def test_update_readme_without_markers_says_what_is_missing(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="downstream-table:start"):
        update_readme(readme, STORE)


def test_known_causes_explain_tests_failing_either_way() -> None:
    store = {
        "django-latest-py3.12": _entry(
            "django",
            "6.1.3",
            "3.12.1",
            failing_both_ids=["i18n.test_compilation.PoFileTests.test_no_write_access", "x.Y.z"],
            failing_both_reasons={
                "i18n.test_compilation.PoFileTests.test_no_write_access": (
                    "AssertionError: CommandError not raised"
                ),
                "x.Y.z": "ValueError: `bad`",
            },
        )
    }
    text = results_markdown(store)
    assert (
        "- `i18n.test_compilation.PoFileTests.test_no_write_access`: the machine runs as root, "
        "so a read-only file stays writable (`AssertionError: CommandError not raised`)"
    ) in text
    assert "- `x.Y.z` (`ValueError: 'bad'`)" in text

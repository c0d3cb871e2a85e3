"""Console tables, the stored results, RESULTS.md and the README table."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .outcomes import Comparison, Outcomes, slowdowns

COUNT_ROWS = (
    ("passed", "passed"),
    ("failed", "failed"),
    ("errors", "error"),
    ("skipped", "skipped"),
    ("expected failures", "xfailed"),
    ("unexpected successes", "xpassed"),
)
README_START = "<!-- downstream-table:start -->"
README_END = "<!-- downstream-table:end -->"
_SHOW_DETAIL_LINES = 12

# Why tests seen failing with both asgirefs fail here, for the reader of
# RESULTS.md. Keyed by test-id prefix; checked by hand, not by the driver.
KNOWN_CAUSES = {
    "i18n.test_compilation.PoFileTests.test_no_write_access": (
        "the machine runs as root, so a read-only file stays writable"
    ),
    "template_tests.test_loaders.FileSystemLoaderTests.test_notafile_error": (
        "the machine runs as root, so an unreadable path stays readable"
    ),
    "deprecation.test_warn_about_implementation.": (
        "CPython 3.12.1 reports another line number for a warning raised inside a "
        "parenthesised multi-line `with` (passes on 3.13.0)"
    ),
}


def known_cause(test_id: str) -> str:
    return next((why for prefix, why in KNOWN_CAUSES.items() if test_id.startswith(prefix)), "")


def _say(text: str = "") -> None:
    print(text, flush=True)


def asgiref_label(result: Mapping[str, Any] | None) -> str:
    if result is None:
        return "not run"
    version = result.get("asgiref_version") or "?"
    return f"{result['variant']} asgiref {version}"


def side_by_side(
    title: str,
    published: Mapping[str, Any] | None,
    ours: Mapping[str, Any] | None,
) -> None:
    """Print the two runs' figures in two columns."""
    _say()
    _say(f"== {title} ==")
    left, right = asgiref_label(published), asgiref_label(ours)
    _say(f"  {'':22}{left:>28}{right:>28}")

    def cell(result: Mapping[str, Any] | None, key: str) -> str:
        if result is None:
            return "-"
        counts = result.get("counts") or {}
        return str(counts.get(key, "-"))

    for label, key in COUNT_ROWS:
        _say(f"  {label:22}{cell(published, key):>28}{cell(ours, key):>28}")

    def total(result: Mapping[str, Any] | None) -> str:
        return "-" if result is None else str(sum((result.get("counts") or {}).values()))

    def seconds(result: Mapping[str, Any] | None) -> str:
        if result is None or result.get("test_seconds") is None:
            return "-"
        return f"{result['test_seconds']:.0f} s (+{result['setup_seconds']:.0f} s setup)"

    def status(result: Mapping[str, Any] | None) -> str:
        if result is None:
            return "-"
        if result.get("setup_error"):
            return "setup failed"
        if result.get("timed_out"):
            return "TIMED OUT"
        return f"exit {result.get('returncode')}"

    _say(f"  {'total':22}{total(published):>28}{total(ours):>28}")
    _say(f"  {'suite time':22}{seconds(published):>28}{seconds(ours):>28}")
    _say(f"  {'suite process':22}{status(published):>28}{status(ours):>28}")


def _outcome(result: Mapping[str, Any] | None, test_id: str) -> str:
    if result is None:
        return "-"
    return str(result["outcomes"]["results"].get(test_id, "missing"))


def _detail(result: Mapping[str, Any] | None, test_id: str) -> str:
    if result is None:
        return ""
    return str(result["outcomes"]["details"].get(test_id, ""))


def _both(published: Mapping[str, Any], ours: Mapping[str, Any], test_id: str) -> str:
    return f"[published: {_outcome(published, test_id)} | ours: {_outcome(ours, test_id)}]"


def print_comparison(
    comparison: Comparison, published: Mapping[str, Any], ours: Mapping[str, Any]
) -> None:
    _say(f"  regressions (pass with published, not with ours): {len(comparison.regressions)}")
    for test_id in comparison.regressions:
        _say(f"    REGRESSION {test_id}   {_both(published, ours, test_id)}")
        detail = _detail(ours, test_id).strip().splitlines()
        for line in detail[-_SHOW_DETAIL_LINES:]:
            _say(f"        | {line}")
    failing = len(comparison.failing_both)
    _say(f"  failing either way (not caused by ours; listed, not hidden): {failing}")
    for test_id in comparison.failing_both:
        reason = (_detail(ours, test_id).strip().splitlines() or [""])[-1][:110]
        _say(f"    {test_id}   {_both(published, ours, test_id)} {reason}")
    if comparison.fixed:
        _say(f"  pass with ours only: {len(comparison.fixed)}")
        for test_id in comparison.fixed:
            _say(f"    {test_id}   {_both(published, ours, test_id)}")
    if comparison.skip_changes:
        _say(f"  skipped on one side only: {len(comparison.skip_changes)}")
        for test_id in comparison.skip_changes:
            _say(f"    {test_id}   {_both(published, ours, test_id)}")
    slower = slowdowns(
        Outcomes.from_json(published["outcomes"]), Outcomes.from_json(ours["outcomes"]), limit=5
    )
    if slower:
        # Wall-clock times on a shared machine: a lead to follow, never a verdict.
        _say("  largest slowdowns with ours (informational; one run each, wall clock):")
        for test_id, before, after in slower:
            _say(f"    {after - before:+7.2f} s  ({before:.2f} s -> {after:.2f} s)  {test_id}")


def load_store(path: Path) -> dict[str, Any]:
    if path.is_file():
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    return {}


def save_store(path: Path, store: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(store, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def summary_entry(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What RESULTS.md keeps of one run: figures, not the per-test lists."""
    if result is None:
        return None
    return {
        "asgiref_version": result.get("asgiref_version"),
        "counts": result.get("counts"),
        "test_seconds": round(result["test_seconds"], 1) if result.get("test_seconds") else None,
        "setup_error": bool(result.get("setup_error")),
        "timed_out": bool(result.get("timed_out")),
        "proof": "ok" if not result.get("proof_problems") else "failed",
    }


def _figures(entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return "not run"
    if entry.get("setup_error"):
        return "setup failed"
    counts = entry.get("counts") or {}
    text = (
        f"{counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
        f"{counts.get('error', 0)} errors, {counts.get('skipped', 0)} skipped"
    )
    return text + (" (timed out)" if entry.get("timed_out") else "")


def table(store: Mapping[str, Any]) -> str:
    """The compatibility table (Markdown) for every target in the store."""
    header = (
        "| Project | Version | Python | Published asgiref | Published asgiref: results "
        "| Ours: results | Regressions | Result |"
    )
    rows = [header, "|---|---|---|---|---|---|---|---|"]
    for _key, entry in sorted(store.items(), key=lambda item: _sort_key(item[1])):
        published, ours = entry.get("published"), entry.get("ours")
        cells = (
            entry["project"].capitalize(),
            entry["project_version"],
            entry["python"],
            (published or {}).get("asgiref_version") or "-",
            _figures(published),
            _figures(ours),
            "-" if entry.get("regressions") is None else str(entry["regressions"]),
            entry["verdict"],
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _sort_key(entry: Mapping[str, Any]) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    def numbers(text: str) -> tuple[int, ...]:
        return tuple(-int(part) for part in re.findall(r"\d+", text))

    return (entry["project"], numbers(entry["project_version"]), numbers(entry["python"]))


def results_markdown(store: Mapping[str, Any]) -> str:
    parts = [
        "# Downstream compatibility",
        "",
        "Generated by `python downstream/run.py` (the `downstream` nox session);",
        "do not edit by hand.",
        "Each row runs the project's own test suite from its sdist twice, in fresh virtualenvs:",
        "once with the published asgiref from the package index, once with this repository's",
        "distributions installed from freshly built wheels. A regression is a test that passes",
        "with the published asgiref and does not with ours.",
        "",
        table(store),
        "",
    ]
    for _key, entry in sorted(store.items(), key=lambda item: _sort_key(item[1])):
        project = entry["project"].capitalize()
        parts += [f"## {project} {entry['project_version']} on Python {entry['python']}", ""]
        parts.append(f"Run {entry.get('date', '?')} at commit `{entry.get('commit', '?')}`.")
        times = [
            f"{side} {entry[side]['test_seconds']:.0f} s"
            for side in ("published", "ours")
            if entry.get(side) and entry[side].get("test_seconds")
        ]
        if times:
            parts.append(f"Suite time: {', '.join(times)}.")
        if entry.get("scope"):
            parts.append(f"Scope: {entry['scope']}.")
        parts.append("")
        for heading, key in (
            ("Regressions", "regression_ids"),
            ("Regressions that failed again on a rerun", "reproduced_ids"),
            ("Regressions that passed on a rerun (intermittent)", "intermittent_ids"),
            ("Failing with the published asgiref and with ours", "failing_both_ids"),
            ("Passing with ours only", "fixed_ids"),
            ("Skipped on one side only", "skip_change_ids"),
        ):
            ids = entry.get(key) or []
            reasons = entry.get("failing_both_reasons") or {} if key == "failing_both_ids" else {}
            if ids:
                parts.append(f"{heading} ({len(ids)}):")
                parts.append("")
                parts += [_listed(test_id, reasons.get(test_id, "")) for test_id in ids]
                parts.append("")
        if entry.get("notes"):
            parts += [f"Note: {note}" for note in entry["notes"]]
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _listed(test_id: str, reason: str) -> str:
    line = f"- `{test_id}`"
    if cause := known_cause(test_id):
        line += f": {cause}"
    if reason:
        quoted = reason.replace("`", "'")
        line += f" (`{quoted}`)"
    return line


def update_readme(readme: Path, store: Mapping[str, Any]) -> None:
    """Replace the table between the README's downstream markers."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no '{README_START}' ... '{README_END}' block to regenerate")
    block = f"{README_START}\n{table(store)}\n{README_END}"
    readme.write_text(text[:start] + block + text[end + len(README_END) :], encoding="utf-8")

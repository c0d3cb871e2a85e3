"""The figures of a run: a text summary for the terminal and a markdown section."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .ledger import PhaseReport, percentile
from .scenario import AFTERSHOCK_PHASE, CLEAN_PHASES, FAULT_PHASES, SideResult

KINDS = ("sync@daphne", "async@daphne", "async@uvicorn", "async@both", "worker")


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.1f}"


def _rate(count: int, report: PhaseReport) -> str:
    return f"{count / report.seconds:.0f}" if report.seconds > 0 else "-"


def load_rows(results: list[SideResult], phase: str = "load") -> list[list[str]]:
    """Rows of (what, side1, side2, ...) for the no-fault load phase."""
    reports = [r.reports.get(phase) for r in results]
    rows: list[list[str]] = []
    rows.append(["messages sent / s"] + [_rate(p.sent, p) if p else "-" for p in reports])
    rows.append(["deliveries / s"] + [_rate(p.delivered, p) if p else "-" for p in reports])
    rows.append(
        ["messages, deliveries"] + [f"{p.sent}, {p.delivered}" if p else "-" for p in reports]
    )
    rows.append(
        ["duplicates (room path + worker path)"] + [_dups(p) if p else "-" for p in reports]
    )
    for kind in KINDS:
        cells = []
        for p in reports:
            values = p.latencies.get(kind, []) if p else []
            cells.append(f"{_ms(percentile(values, 0.5))} / {_ms(percentile(values, 0.99))}")
        rows.append([f"p50 / p99 latency (ms), {kind}", *cells])
    return rows


def fault_rows(results: list[SideResult]) -> list[list[str]]:
    rows: list[list[str]] = []
    for phase in (*FAULT_PHASES, AFTERSHOCK_PHASE):
        cells = []
        for result in results:
            fault = result.faults.get(phase)
            report = result.reports.get(phase)
            if report is None:
                cells.append("not run")
                continue
            cell = ""
            if fault is not None:
                cell = (
                    f"new messages flow after {fault.recovered_after:.2f} s; "
                    if fault.recovered_after is not None
                    else "NOT RECOVERED; "
                )
            cells.append(
                cell + f"lost {report.lost}/{report.expected_deliveries} deliveries "
                f"({report.lost_messages} messages reached nobody), "
                f"{_dups(report)}, reordered {report.out_of_order}"
                + (f", {fault.detail['reconnects']} reconnects" if fault is not None else "")
            )
        rows.append([phase, *cells])
    return rows


def _dups(report: PhaseReport) -> str:
    worker = report.by_kind.get("duplicated", {}).get("worker", 0)
    return f"dup {report.duplicated - worker} + {worker} on the worker path"


def resource_rows(results: list[SideResult]) -> list[list[str]]:
    rows: list[list[str]] = []
    names = sorted({n.split("-", 1)[1] for r in results for n in r.baseline})
    for name in names:
        cells = []
        for result in results:
            key = f"{result.side}-{name}"
            points = [
                result.baseline.get(key),
                result.idle_after_faults.get(key),
                result.after.get(key),
            ]
            if points[0] is None:
                cells.append("-")
                continue
            cells.append(
                " -> ".join(
                    "(replaced)" if p is None else f"{p.rss_kib / 1024:.0f} MiB / {p.threads} thr"
                    for p in points
                )
            )
        rows.append([name, *cells])
    return rows


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: list[SideResult], *, title: str) -> str:
    sides = [f"{r.side} asgiref" for r in results]
    parts = [
        f"### {title}",
        "",
        "No-fault load (every message delivered to every member once, in per-sender order):",
        "",
        _table(["", *sides], load_rows(results)),
        "",
        "Faults (loss is measured, not forbidden, during a fault):",
        "",
        _table(["fault", *sides], fault_rows(results)),
        "",
        (
            "Memory / threads: baseline after warm-up -> idle after load, worker kill and "
            "client drops -> at the end (after the Redis restart, clients gone):"
        ),
        "",
        _table(["process", *sides], resource_rows(results)),
    ]
    notes = [f"- {r.side}: {n}" for r in results for n in r.notes]
    if notes:
        parts += ["", "Notes:", "", *notes]
    return "\n".join(parts) + "\n"


def text(results: list[SideResult]) -> str:
    lines = []
    for result in results:
        lines.append(f"== {result.side} asgiref ({result.seconds:.0f} s)")
        for phase, report in result.reports.items():
            tag = "no fault" if phase in CLEAN_PHASES or "load" in phase else "fault"
            lines.append(
                f"  {phase:<22} [{tag}] sent {report.sent:>6}  delivered "
                f"{report.delivered:>6}/{report.expected_deliveries:<6} lost {report.lost:>4} "
                f"dup {report.duplicated:>3} reordered {report.out_of_order:>3}  "
                f"p50 {_ms(percentile(report.all_latencies(), 0.5))} ms  "
                f"p99 {_ms(percentile(report.all_latencies(), 0.99))} ms"
            )
        lines.extend(f"  FAILED: {failure}" for failure in result.failures)
    lines.append("")
    lines.append(markdown(results, title="Summary"))
    return "\n".join(lines)


def to_json(results: list[SideResult], path: Path) -> None:
    data = [
        {
            "side": result.side,
            "seconds": round(result.seconds, 1),
            "failures": result.failures,
            "notes": result.notes,
            "proof": result.proof,
            "phases": {
                phase: {
                    "sent": r.sent,
                    "expected": r.expected_deliveries,
                    "delivered": r.delivered,
                    "lost": r.lost,
                    "lost_messages": r.lost_messages,
                    "duplicated": r.duplicated,
                    "reordered": r.out_of_order,
                    "unexpected": r.unexpected,
                    "unknown": r.unknown,
                    "seconds": round(r.seconds, 3),
                    "p50_ms": {
                        k: round(percentile(v, 0.5) * 1000, 2) for k, v in r.latencies.items()
                    },
                    "p99_ms": {
                        k: round(percentile(v, 0.99) * 1000, 2) for k, v in r.latencies.items()
                    },
                }
                for phase, r in result.reports.items()
            },
            "faults": {
                phase: {"recovered_after": f.recovered_after, **f.detail}
                for phase, f in result.faults.items()
            },
            "baseline": {n: vars(s) for n, s in result.baseline.items()},
            "idle_after_faults": {n: vars(s) for n, s in result.idle_after_faults.items()},
            "after": {n: vars(s) for n, s in result.after.items()},
            "timeline": [
                {"t": round(t, 1), **{n: vars(s) for n, s in samples.items()}}
                for t, samples in result.timeline
            ],
        }
        for result in results
    ]
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

"""Turn a ``nox -s bench -- --json PATH`` report into the performance page's tables and plots.

Every figure on that page comes from here, read from the committed JSON: nothing is
typed by hand. The plots are small SVG files written directly (a bar per workload,
a line at 1.0 for the published asgiref): no plotting library to install, text a
browser renders crisply at any zoom, and files that diff cleanly when the JSON changes.

``python docs/tools/bench_figures.py REPORT.json OUT_DIR`` does what the docs build does.
"""

from __future__ import annotations

import datetime
import html
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# What a reader wants to know first, in the order they ask it. Prose only: every
# number beside these comes from the report.
HEADLINES = (
    ("bench_sync.py", "async_to_sync_no_loop", "`async_to_sync` from a thread with no loop"),
    (
        "bench_sync.py",
        "django_request_seq",
        "Django-shaped request (thread-sensitive view + one `async_to_sync`), sequential",
    ),
    ("bench_sync.py", "django_request_c64", "the same, 64 concurrent"),
    ("bench_local.py", "local_get_sync", "`Local` attribute read"),
    ("bench_local.py", "local_set_sync", "`Local` attribute write"),
    ("bench_wsgi.py", "small_get_64", "`WsgiToAsgi`, small GETs, 64 concurrent"),
    ("bench_wsgi.py", "post_1mib", "`WsgiToAsgi`, 1 MiB POST"),
    ("bench_wsgi.py", "stream_1mib", "`WsgiToAsgi`, 1 MiB streamed response"),
    ("bench_testing.py", "communicator_roundtrip", "`ApplicationCommunicator` round trip"),
    ("bench_testing.py", "http_request", "one HTTP request through `ApplicationCommunicator`"),
)


@dataclass(frozen=True)
class Row:
    name: str
    published: float | None
    ours: float | None

    @property
    def ratio(self) -> float | None:
        if self.published and self.ours:
            return self.ours / self.published
        return None


def load(path: Path) -> dict[str, object]:
    report: dict[str, object] = json.loads(path.read_text())
    for key in ("started", "machine", "published", "ours", "modules", "rounds"):
        if key not in report:
            raise SystemExit(f"{path}: not a bench report (no {key!r}); make one with --json")
    return report


def rows_of(report: dict[str, object], module: str) -> list[Row]:
    modules: dict[str, dict[str, dict[str, dict[str, float | None]]]] = report["modules"]  # type: ignore[assignment]
    workloads = modules[module]["workloads"]
    return [Row(name, w["published"], w["ours"]) for name, w in workloads.items()]


def measured(value: float | None, name: str) -> str:
    """A time or a byte count, in the unit a reader expects."""
    if value is None:
        return "n/a"
    if name.endswith("_bytes"):
        return f"{value / 2**20:.2f} MiB"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def ratio_text(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def provenance(report: dict[str, object]) -> str:
    machine: dict[str, object] = report["machine"]  # type: ignore[assignment]
    published: dict[str, str] = report["published"]  # type: ignore[assignment]
    ours: dict[str, str] = report["ours"]  # type: ignore[assignment]
    started = datetime.datetime.fromisoformat(str(report["started"]))
    return (
        f"Measured on {started:%Y-%m-%d} (UTC) on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['system']} ({machine['machine']}); Python {ours['python']}; "
        f"published asgiref {published['asgiref']} against ours ({ours['asgiref']}); "
        f"median of {report['rounds']} rounds, each a fresh process per implementation, "
        f"alternating which goes first.\n"
    )


def headline_table(report: dict[str, object]) -> str:
    found = {(m, r.name): r for m in report["modules"] for r in rows_of(report, m)}  # type: ignore[attr-defined]
    cells = []
    for module, name, label in HEADLINES:
        row = found.get((module, name))
        if row is None:
            continue
        cells.append(
            [label, measured(row.published, name), measured(row.ours, name), ratio_text(row.ratio)]
        )
    return table(["workload", "published", "ours", "ours / published"], cells)


def module_table(report: dict[str, object], module: str) -> str:
    cells = [
        [
            f"`{r.name}`",
            measured(r.published, r.name),
            measured(r.ours, r.name),
            ratio_text(r.ratio),
        ]
        for r in rows_of(report, module)
    ]
    return table(["workload", "published", "ours", "ours / published"], cells)


def targets_table(report: dict[str, object], module: str) -> str:
    """The module's own bars: a workload against a reference, measured in one process."""
    modules: dict[str, dict[str, list[list[object]]]] = report["modules"]  # type: ignore[assignment]
    rows = {r.name: r for r in rows_of(report, module)}
    cells = []
    for workload, reference, limit in modules[module]["targets"]:
        mine, base = rows.get(str(workload)), rows.get(str(reference))
        ratio = mine.ours / base.ours if mine and base and mine.ours and base.ours else None
        verdict = "-" if ratio is None else ("met" if ratio <= float(limit) else "missed")  # type: ignore[arg-type]
        cells.append([f"`{workload}` / `{reference}`", ratio_text(ratio), f"{limit}", verdict])
    if not cells:
        return ""
    return table(["ours: workload / reference", "ratio", "target", "result"], cells)


# ----------------------------------------------------------------------------- SVG

_ROW = 22
_LABEL_WIDTH = 330
_PLOT_WIDTH = 380
_MARGIN = 12


def ratio_plot(title: str, rows: list[Row]) -> str:
    """Horizontal bars of ours/published; the dashed line is the published asgiref."""
    plotted = [r for r in rows if r.ratio is not None]
    top = max([1.25, *[min(r.ratio or 0.0, 3.0) for r in plotted]])
    height = _MARGIN * 2 + 30 + _ROW * len(plotted) + 24
    width = _LABEL_WIDTH + _PLOT_WIDTH + 70

    def x(ratio: float) -> float:
        return _LABEL_WIDTH + _PLOT_WIDTH * min(ratio, top) / top

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" font-family="sans-serif" font-size="12">'
        ),
        f"<title>{html.escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        (
            f'<text x="{_MARGIN}" y="{_MARGIN + 12}" font-size="14" font-weight="bold">'
            f"{html.escape(title)}</text>"
        ),
    ]
    y0 = _MARGIN + 30
    for index, row in enumerate(plotted):
        ratio = row.ratio or 0.0
        y = y0 + index * _ROW
        colour = "#2a7ab0" if ratio <= 1.0 else "#c0504d"
        parts += [
            (
                f'<text x="{_LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">'
                f"{html.escape(row.name)}</text>"
            ),
            (
                f'<rect x="{_LABEL_WIDTH}" y="{y + 4}" width="{x(ratio) - _LABEL_WIDTH:.1f}" '
                f'height="{_ROW - 8}" fill="{colour}"/>'
            ),
            f'<text x="{x(ratio) + 4:.1f}" y="{y + 15}">{ratio:.2f}'
            + ("+" if ratio > top else "")
            + "</text>",
        ]
    bottom = y0 + _ROW * len(plotted)
    parts += [
        (
            f'<line x1="{x(1.0):.1f}" y1="{y0 - 4}" x2="{x(1.0):.1f}" y2="{bottom + 4}" '
            f'stroke="#333" stroke-dasharray="4 3"/>'
        ),
        (
            f'<text x="{x(1.0):.1f}" y="{bottom + 18}" text-anchor="middle">'
            f"1.0 = published asgiref (shorter is faster)</text>"
        ),
        (
            f'<line x1="{_LABEL_WIDTH}" y1="{y0 - 4}" x2="{_LABEL_WIDTH}" y2="{bottom + 4}" '
            f'stroke="#333"/>'
        ),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- page


def page(report: dict[str, object], plots: dict[str, str]) -> str:
    """The generated part of the performance page, as MyST Markdown."""
    out = [provenance(report), "\n", headline_table(report)]
    modules: dict[str, object] = report["modules"]  # type: ignore[assignment]
    for module in modules:
        # A rubric, not a heading: an included file may not start a section level of its own.
        out += [f"\n```{{rubric}} benchmarks/{module}\n```\n\n"]
        if module in plots:
            out += [f"![ours / published for {module}]({plots[module]})\n\n"]
        out += [module_table(report, module)]
        targets = targets_table(report, module)
        if targets:
            out += ["\nRatios between two workloads of ours, measured in the same process:\n\n"]
            out += [targets]
    return "".join(out)


def write_if_changed(path: Path, text: str) -> None:
    """Leave an unchanged file alone, so Sphinx's incremental build stays incremental."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_all(report_path: Path, out_dir: Path) -> None:
    report = load(report_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots: dict[str, str] = {}
    for module in report["modules"]:  # type: ignore[attr-defined]
        rows = rows_of(report, module)
        if any(r.ratio is not None for r in rows):
            name = f"bench-{Path(module).stem}.svg"
            write_if_changed(out_dir / name, ratio_plot(f"{module}: ours / published", rows))
            # Relative to the generated page, which sits beside the plots.
            plots[module] = name
    write_if_changed(out_dir / "performance.md", page(report, plots))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: bench_figures.py REPORT.json OUT_DIR")
    write_all(Path(sys.argv[1]), Path(sys.argv[2]))

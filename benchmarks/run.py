"""Compare ours with the published asgiref: alternating fresh processes, medians, ratios.

``nox -s bench`` calls this with the interpreters of two virtualenvs. Absolute
times on a shared two-core machine are noise; the ratios measured in the same
run are what the project's performance claims rest on.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_worker(python: str, module: Path, only: str) -> dict[str, object]:
    result = subprocess.run(
        [python, str(HERE / "_worker.py"), str(module), only],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=False,
        timeout=600,
    )
    if result.returncode != 0 or not result.stdout.strip():
        sys.stderr.write(result.stderr)
        raise SystemExit(f"{module.name} failed under {python}")
    if result.stderr.strip():
        sys.stderr.write(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def fmt(value: float | None, name: str) -> str:
    if value is None:
        return "n/a"
    if name.endswith("_bytes"):
        return f"{value / 2**20:.2f} MiB"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    if value >= 1e-6:
        return f"{value * 1e6:.2f} µs"
    return f"{value * 1e9:.1f} ns"


def median(samples: list[float | None]) -> float | None:
    values = [s for s in samples if s is not None]
    return statistics.median(values) if values else None


def cpu_model() -> str:
    """The processor's marketing name where Linux reports it, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version_of(python: str) -> dict[str, str]:
    """The interpreter's version and the asgiref version it imports."""
    code = (
        "import sys, importlib.metadata as m; "
        "print(sys.version.split()[0]); print(m.version('asgiref'))"
    )
    out = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=True,
        timeout=60,
    ).stdout.split()
    return {"python": out[0], "asgiref": out[1]}


def machine() -> dict[str, object]:
    """What the figures were measured on: they mean little without it."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--published", required=True, help="python of the published asgiref venv")
    parser.add_argument("--ours", required=True, help="python of our distributions' venv")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="run modules/workloads containing this text")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--json", type=Path, help="also write every sample, median and target to this file"
    )
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    document: dict[str, object] = {
        "started": started.isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "only": args.only,
        "machine": machine(),
        "published": version_of(args.published),
        "ours": version_of(args.ours),
    }
    modules_out: dict[str, object] = {}
    document["modules"] = modules_out

    modules = sorted(HERE.glob("bench_*.py"))
    # --only names either modules (run them whole) or workloads (filter inside every module).
    if args.only and any(args.only in m.name for m in modules):
        modules = [m for m in modules if args.only in m.name]
        workload_filter = ""
    else:
        workload_filter = args.only
    misses: list[str] = []
    for module in modules:
        only = workload_filter
        samples: dict[str, dict[str, list[float | None]]] = {"published": {}, "ours": {}}
        meta: dict[str, object] = {}
        for round_number in range(args.rounds):
            order = ["published", "ours"] if round_number % 2 == 0 else ["ours", "published"]
            for impl in order:
                python = args.published if impl == "published" else args.ours
                report = run_worker(python, module, only)
                meta = report
                for name, value in report["results"].items():  # type: ignore[attr-defined]
                    samples[impl].setdefault(name, []).append(value)
        pub = {name: median(v) for name, v in samples["published"].items()}
        ours = {name: median(v) for name, v in samples["ours"].items()}
        modules_out[module.name] = {
            "workloads": {
                name: {
                    "published": pub.get(name),
                    "ours": ours.get(name),
                    "published_samples": samples["published"].get(name, []),
                    "ours_samples": samples["ours"].get(name, []),
                }
                for name in ours
            },
            "targets": meta.get("targets", []),
            "vs_published": meta.get("vs_published", []),
        }
        print(f"\n## {module.name}  (median of {args.rounds} alternating rounds)\n")
        print(f"| {'workload':<38} | {'published':>12} | {'ours':>12} | {'ours/pub':>8} |")
        print(f"|{'-' * 40}|{'-' * 14}|{'-' * 14}|{'-' * 10}|")
        for name, o in ours.items():
            p = pub.get(name)
            ratio = f"{o / p:.3f}" if p and o else "-"
            print(f"| {name:<38} | {fmt(p, name):>12} | {fmt(o, name):>12} | {ratio:>8} |")
        targets = meta.get("targets", [])
        vs_published = meta.get("vs_published", [])
        if targets or vs_published:
            print(f"\n| {'target':<62} | {'ours':>7} | {'pub':>7} | {'max':>6} | result |")
            print(f"|{'-' * 64}|{'-' * 9}|{'-' * 9}|{'-' * 8}|--------|")
        for workload, reference, limit in targets:  # type: ignore[attr-defined]
            o_w, o_r = ours.get(workload), ours.get(reference)
            p_w, p_r = pub.get(workload), pub.get(reference)
            ratio = o_w / o_r if o_w and o_r else None
            pub_ratio = f"{p_w / p_r:.3f}" if p_w and p_r else "-"
            verdict = "n/a" if ratio is None else ("ok" if ratio <= limit else "MISSED")
            label = f"{workload} / {reference}"
            shown = f"{ratio:.3f}" if ratio is not None else "-"
            print(f"| {label:<62} | {shown:>7} | {pub_ratio:>7} | {limit:>6} | {verdict:<6} |")
            if verdict != "ok":
                misses.append(f"{module.name}: {label} = {shown} (max {limit})")
        for workload, limit in vs_published:  # type: ignore[attr-defined]
            o, p = ours.get(workload), pub.get(workload)
            ratio = o / p if o and p else None
            verdict = "n/a" if ratio is None else ("ok" if ratio <= limit else "MISSED")
            label = f"{workload} ours/published"
            shown = f"{ratio:.3f}" if ratio is not None else "-"
            print(f"| {label:<62} | {shown:>7} | {'1':>7} | {limit:>6} | {verdict:<6} |")
            if verdict != "ok":
                misses.append(f"{module.name}: {label} = {shown} (max {limit})")
    print()
    if args.json is not None:
        finished = datetime.datetime.now(datetime.timezone.utc)
        document["finished"] = finished.isoformat(timespec="seconds")
        document["misses"] = misses
        args.json.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        print(f"Wrote {args.json}")
    if misses:
        print("Targets missed or not measurable in this run:")
        for miss in misses:
            print(f"  - {miss}")
    else:
        print("Every target was met in this run.")
    return 1 if (misses and args.strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())

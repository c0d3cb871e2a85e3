"""Command line of the e2e run: sides, sizes, soak, watchdog, exit status."""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from . import report
from .procs import Registry
from .redis_server import ensure_redis_server
from .scenario import Config, SideResult, SideRun
from .site import parse_side


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``1h`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 90s, 30m, 1h)")
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"s": 1, "m": 60, "h": 3600}[unit]


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python e2e/channels/run.py",
        description="A Channels site (Daphne, uvicorn, runworker, Redis) under load and faults, "
        "once per asgiref side.",
    )
    parser.add_argument(
        "--side",
        action="append",
        required=True,
        type=parse_side,
        help="published=PYTHON or ours=PYTHON (a venv's interpreter); repeat",
    )
    parser.add_argument(
        "--ours-wheels",
        type=Path,
        help="folder of the wheels installed on the ours side (byte-compared)",
    )
    parser.add_argument(
        "--soak",
        type=parse_duration,
        default=0.0,
        metavar="DURATION",
        help="run load cycles with faults for this long per side (e.g. 30m)",
    )
    parser.add_argument("--members", type=int, default=4, help="clients per room (5 rooms)")
    parser.add_argument(
        "--messages", type=int, default=60, help="messages per client in the no-fault load phase"
    )
    parser.add_argument(
        "--sample-every",
        type=parse_duration,
        default=30.0,
        help="soak: seconds between memory/thread samples",
    )
    parser.add_argument("--work-dir", type=Path, help="logs and Redis data (default: a temp dir)")
    parser.add_argument("--results-md", type=Path, help="write the markdown summary here")
    parser.add_argument("--results-json", type=Path, help="write every figure here")
    parser.add_argument(
        "--deadline",
        type=parse_duration,
        help="stop everything and fail after this long (default: 150 s per side plus the soak)",
    )
    args = parser.parse_args(argv)
    if args.members < 2 or args.messages < 1:
        parser.error("--members must be at least 2 and --messages at least 1")
    return args


def _watchdog(seconds: float, registry: Registry) -> None:
    """A hang anywhere (driver included) ends the run: stacks, stop every process, exit 3."""

    def fire() -> None:
        print(f"\ne2e_channels: WATCHDOG: the run exceeded {seconds:.0f} s; stacks:", flush=True)
        faulthandler.dump_traceback(all_threads=True)
        registry.stop_all()
        print("e2e_channels: 0 passed, 1 failed", flush=True)
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    # SIGTERM (CI stopping us) unwinds like Ctrl-C, so every started process is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    redis_exe = ensure_redis_server()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="e2e-channels-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"e2e_channels: logs and data in {work_dir}", flush=True)
    registry = Registry(work_dir)
    deadline = args.deadline or (150.0 + args.soak + 120.0) * len(args.side)
    _watchdog(deadline, registry)
    config = Config(
        members_per_room=args.members,
        load_messages=args.messages,
        soak_seconds=args.soak,
        sample_every=args.sample_every,
    )
    if args.soak:
        # Memory after a long run is judged against a looser bound than after 3 minutes.
        config.rss_slack_kib = 48 * 1024
    results: list[SideResult] = []
    started = time.monotonic()
    try:
        for side in args.side:
            run = SideRun(
                side,
                config,
                registry,
                redis_exe=redis_exe,
                work_dir=work_dir,
                wheel_dir=args.ours_wheels,
            )
            results.append(asyncio.run(run.run()))
    finally:
        registry.stop_all()
    title = f"Channels e2e ({'soak ' + str(int(args.soak)) + ' s' if args.soak else 'short'})"
    print("\n" + report.text(results), flush=True)
    if args.results_md:
        args.results_md.write_text(report.markdown(results, title=title), encoding="utf-8")
    json_path = args.results_json or work_dir / "results.json"
    report.to_json(results, json_path)
    failed = [r for r in results if r.failures]
    print(f"e2e_channels: took {time.monotonic() - started:.0f} s; figures in {json_path}")
    print(f"e2e_channels: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0

"""Command line: ``python differential/run.py --published PY --ours PY [options]``."""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

from . import known as known_module
from .explore import Plan, explore
from .report import render, write
from .runners import Runner

HERE = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="differential",
        description="Compare our asgiref with the published one on generated programs.",
    )
    parser.add_argument("--published", required=True, help="Python of the published asgiref venv")
    parser.add_argument("--ours", required=True, help="Python of the venv with our wheels")
    parser.add_argument("--examples", type=int, default=300, help="batches to generate")
    parser.add_argument(
        "--seed", default="0", help="an integer, or 'random' (printed, so a run can be replayed)"
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per program: a hang")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds for generating and shrinking"
    )
    parser.add_argument("--max-programs", type=int, default=3, help="programs per batch at most")
    parser.add_argument("--known", type=Path, default=HERE / "known.json")
    parser.add_argument(
        "--deviations",
        type=Path,
        default=HERE.parent / "DEVIATIONS.md",
        help="the list every known entry's deviation must be in",
    )
    parser.add_argument("--report", type=Path, default=Path("differential-report.json"))
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even with unknown differences"
    )
    parser.add_argument(
        "--plant-ours",
        default="",
        help="plant a difference on our side (the harness's own tests use it)",
    )
    args = parser.parse_args(argv)
    # The runners start in a neutral directory; absolute, but not resolved (a venv's python is
    # a symlink that must stay one).
    args.published = os.path.abspath(args.published)
    args.ours = os.path.abspath(args.ours)
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    if args.seed == "random":
        # Drawn here and printed, so that the run can be replayed with --seed.
        args.seed = random.SystemRandom().randrange(2**32)
    else:
        try:
            args.seed = int(args.seed)
        except ValueError:
            parser.error(f"--seed takes an integer or 'random', not {args.seed!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    entries = known_module.load(args.known)
    unlisted = known_module.unlisted_deviations(entries, args.deviations) if entries else []
    if unlisted:
        print(f"{args.known} names deviations that {args.deviations} does not list: {unlisted}")
        return 2
    plan = Plan(args.examples, args.seed, args.timeout, args.max_programs, args.budget)
    published = Runner("published", args.published)
    ours = Runner("ours", args.ours, plant=args.plant_ours)
    try:
        outcome = explore(published, ours, entries, plan)
    finally:
        published.close()
        ours.close()
    write(args.report, outcome, plan)
    print(render(outcome, plan, entries))
    print(f"full report: {args.report.resolve()}")
    failed = bool(outcome.findings or outcome.flaky)
    if failed and args.report_only:
        print("--report-only: not failing on the differences above")
        return 0
    return 1 if failed else 0

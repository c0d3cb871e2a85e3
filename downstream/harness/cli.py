"""Command line and orchestration of a downstream run."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import ours as ours_build
from . import report, sources, suites, venvs
from .outcomes import GOOD, Outcomes, compare
from .proc import CommandError, run_checked
from .targets import (
    DEFAULT_TARGETS,
    Target,
    available_releases,
    find_interpreter,
    interpreter_version,
    parse_target,
    pick_release,
)

REPO = Path(__file__).resolve().parents[2]
DOWNSTREAM = REPO / "downstream"
VARIANTS = ("published", "ours")
# More regressions than this is a systematic break: a rerun would tell nothing new.
_RERUN_LIMIT = 200


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python downstream/run.py",
        description=(
            "Run Django's and Daphne's own test suites with the published asgiref and with "
            "this repository's distributions, and fail on any test that regresses with ours."
        ),
    )
    parser.add_argument(
        "-t",
        "--target",
        action="append",
        dest="targets",
        metavar="PROJECT[-SERIES]@X.Y",
        help=(
            "project release series and Python to run, e.g. django-5.2@3.10, "
            "django-latest@3.12, daphne@3.12; repeat or comma-separate "
            f"(default: {', '.join(DEFAULT_TARGETS)})"
        ),
    )
    parser.add_argument(
        "--only",
        choices=VARIANTS,
        help=(
            "run one side only; the other side's last cached run (same project release and "
            "Python) is used for the comparison"
        ),
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help=(
            "run no suite: compare the last cached runs of both sides and regenerate "
            "results.json, RESULTS.md (and --update-readme)"
        ),
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=REPO / ".downstream-cache",
        help="sdists, built wheels, venvs and run logs (default: %(default)s)",
    )
    parser.add_argument(
        "--reuse-venvs",
        action="store_true",
        help=(
            "keep venvs a previous run set up with the same requirements (ours are still "
            "reinstalled from freshly built wheels); default: create every venv anew"
        ),
    )
    parser.add_argument(
        "--interpreter",
        action="append",
        default=[],
        metavar="X.Y=PATH",
        help="use this interpreter for Python X.Y instead of searching pyenv and PATH",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds before one suite run is stopped (default: %(default)s)",
    )
    parser.add_argument(
        "--django-parallel",
        type=int,
        default=2,
        help="processes for Django's runtests.py --parallel (default: %(default)s)",
    )
    parser.add_argument(
        "--django-apps",
        default=",".join(suites.DJANGO_APPS),
        help="comma-separated Django test apps (default: the apps that exercise asgiref)",
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help=(
            "also run the further Django apps with async tests: "
            f"{', '.join(suites.DJANGO_EXTRA_APPS)} (about twice the time)"
        ),
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not update downstream/results.json and downstream/RESULTS.md",
    )
    parser.add_argument(
        "--update-readme",
        type=Path,
        metavar="README",
        help=(
            f"also rewrite the table between '{report.README_START}' and "
            f"'{report.README_END}' in this file"
        ),
    )
    parser.add_argument(
        "--packages-dir",
        type=Path,
        default=REPO / "packages",
        help=(
            "folder holding our six distributions to build (default: %(default)s); another "
            "checkout's packages/ tries a branch, and the record then names no commit"
        ),
    )
    parser.add_argument("--list", action="store_true", help="print the default targets and exit")
    return parser.parse_args(argv)


def _targets(args: argparse.Namespace) -> list[Target]:
    specs: list[str] = []
    for item in args.targets or DEFAULT_TARGETS:
        specs += [part for part in item.split(",") if part.strip()]
    return [parse_target(spec) for spec in specs]


def _interpreter_overrides(items: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        version, sep, path = item.partition("=")
        if not sep or not path:
            raise SystemExit(f"--interpreter wants X.Y=PATH, got {item!r}")
        overrides[version] = path
    return overrides


def _git_commit() -> str:
    head = run_checked(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], check=False)
    dirty = run_checked(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "packages"], check=False
    )
    commit = head.stdout.strip() or "unknown"
    return commit + ("+local changes" if dirty.stdout.strip() else "")


def _builder(interpreters: list[Path]) -> Path:
    """An interpreter with pip, to build our wheels."""
    if importlib.util.find_spec("pip") is not None:
        return Path(sys.executable)
    return interpreters[0]


class Run:
    """One invocation: the chosen targets, each on one or both sides."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cache: Path = args.cache_dir.resolve()
        self.variants: tuple[str, ...] = (
            () if args.report_only else (args.only,) if args.only else VARIANTS
        )
        apps = [app for app in args.django_apps.split(",") if app]
        if args.wide:
            apps += [app for app in suites.DJANGO_EXTRA_APPS if app not in apps]
        self.apps = tuple(apps)
        self.wheels: ours_build.OurWheels | None = None
        self.store_path = DOWNSTREAM / "results.json"
        self.packages: Path = args.packages_dir.resolve()
        self.commit = _git_commit() if self.packages == REPO / "packages" else str(self.packages)
        self.failures: list[str] = []
        self.passed_targets = 0
        self.timings: list[tuple[str, float]] = []

    # -- one side of one target -------------------------------------------------
    def _result_path(self, target: Target, variant: str) -> Path:
        return self._run_dir(target, variant) / "result.json"

    def _run_dir(self, target: Target, variant: str) -> Path:
        """Where one side's logs and results go; another scope gets another folder."""
        folder = target.key
        if target.project == "django" and self.apps != suites.DJANGO_APPS:
            digest = hashlib.sha256(",".join(self.apps).encode()).hexdigest()[:8]
            folder += f"-apps-{digest}"
        return self.cache / "runs" / folder / variant

    def _scope(self, project: str) -> list[str]:
        """What part of the suite runs: a cached side is only comparable at the same scope."""
        return list(self.apps) if project == "django" else ["whole suite"]

    def _load_result(
        self, target: Target, variant: str, project_version: str, python: str
    ) -> dict[str, Any] | None:
        path = self._result_path(target, variant)
        if not path.is_file():
            return None
        result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        wanted = (project_version, python, self._scope(target.project))
        if (result.get("project_version"), result.get("python"), result.get("scope")) != wanted:
            print(
                f"\n-- no cached {variant} run for {project_version} on {python} with this scope",
                flush=True,
            )
            return None
        return result

    def _run_side(
        self, target: Target, variant: str, interpreter: Path, python: str, source: sources.Source
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "target": str(target),
            "project": target.project,
            "project_version": source.version,
            "python": python,
            "variant": variant,
            "scope": self._scope(target.project),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": self.commit,
            "asgiref_version": None,
            "proof_problems": [],
            "import_errors": {},
            "setup_error": None,
            "counts": None,
            "outcomes": Outcomes().to_json(),
            "test_seconds": None,
            "setup_seconds": 0.0,
            "returncode": None,
            "timed_out": False,
        }
        heading = f"{target} ({source.project} {source.version}, Python {python})"
        print(f"\n-- {heading}: {variant} asgiref", flush=True)
        started = time.monotonic()
        try:
            venv, reused = venvs.prepare(
                self.cache / "venvs" / f"{target.key}-{variant}",
                interpreter,
                suites.requirements(source),
                reuse=self.args.reuse_venvs,
            )
            if reused:
                print(f"  reusing {venv.path}", flush=True)
            if variant == "ours":
                assert self.wheels is not None
                venvs.swap_in_ours(venv, self.wheels)
            venvs.pip_check(venv)
            proof = venvs.prove(venv, self.wheels if variant == "ours" else None)
            result["freeze"] = venvs.freeze(venv)
        except (CommandError, OSError, ValueError) as exc:
            result["setup_error"] = str(exc)
            result["setup_seconds"] = time.monotonic() - started
            print(f"  ! setup failed: {exc}", flush=True)
            self._save(result, target, variant)
            return result
        result["setup_seconds"] = time.monotonic() - started
        result["asgiref_version"] = proof.get("asgiref_version")
        result["proof_problems"] = list(proof.get("problems") or [])
        modules: dict[str, dict[str, Any]] = proof.get("modules") or {}
        result["import_errors"] = {
            name: info["error"] for name, info in modules.items() if info.get("error")
        }
        result["providers"] = proof.get("providers")
        self._print_proof(variant, proof, result)
        if result["proof_problems"]:
            self._save(result, target, variant)
            return result

        run = suites.run(
            source,
            venv,
            self._run_dir(target, variant),
            timeout=self.args.timeout,
            django_parallel=self.args.django_parallel,
            django_apps=self.apps,
        )
        result["outcomes"] = run.outcomes.to_json()
        result["counts"] = run.outcomes.counts()
        result["test_seconds"] = run.finished.seconds
        result["returncode"] = run.finished.returncode
        result["timed_out"] = run.finished.timed_out
        result["log"] = str(run.log)
        print(
            f"  {sum(result['counts'].values())} tests reported in {run.finished.seconds:.0f} s "
            f"(exit {run.finished.returncode}{', timed out' if run.finished.timed_out else ''})",
            flush=True,
        )
        if run.finished.timed_out:
            _show_stack_dumps(run.log)
        self.timings.append((f"{target} {variant}: setup", result["setup_seconds"]))
        self.timings.append((f"{target} {variant}: suite", run.finished.seconds))
        self._save(result, target, variant)
        return result

    def _print_proof(self, variant: str, proof: dict[str, Any], result: dict[str, Any]) -> None:
        providers = proof.get("providers") or {}
        names = ", ".join(
            f"{name} {info.get('version')}" for name, info in sorted(providers.items())
        )
        print(f"  asgiref/ is provided by: {names or 'nothing'}", flush=True)
        modules = proof.get("modules") or {}
        for module in ("asgiref", "asgiref.sync", "asgiref.local"):
            info = modules.get(module) or {}
            print(
                f"  {module}.__file__ = {info.get('file')} (recorded by {info.get('owner')})",
                flush=True,
            )
        for module, error in result["import_errors"].items():
            if error != "not installed" or variant == "ours":
                print(f"  ! import {module}: {error}", flush=True)
        if variant == "ours":
            if result["proof_problems"]:
                print(
                    "  ! PROOF FAILED: the suite would not be testing our distributions:",
                    flush=True,
                )
                for problem in result["proof_problems"]:
                    print(f"    - {problem}", flush=True)
            else:
                print(
                    "  proof: only our wheels provide asgiref/, installed from the files just "
                    "built, hashes match, every module resolves into them",
                    flush=True,
                )

    def _save(self, result: dict[str, Any], target: Target, variant: str) -> None:
        path = self._result_path(target, variant)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")

    # -- one target -------------------------------------------------------------
    def run_target(self, target: Target, store: dict[str, Any]) -> None:
        print(f"\n==== {target} ====", flush=True)
        try:
            interpreter = find_interpreter(
                target.python, _interpreter_overrides(self.args.interpreter)
            )
            python = interpreter_version(interpreter)
            version = pick_release(available_releases(interpreter, target.project), target.series)
            print(f"  {target.project} {version}, Python {python} ({interpreter})", flush=True)
            source = sources.fetch(interpreter, target.project, version, self.cache)
        except (CommandError, LookupError, OSError, ValueError) as exc:
            self.failures.append(f"{target}: could not prepare: {exc}")
            print(f"  ! {exc}", flush=True)
            return

        sides: dict[str, dict[str, Any] | None] = {}
        for variant in VARIANTS:
            if variant in self.variants:
                sides[variant] = self._run_side(target, variant, interpreter, python, source)
            else:
                sides[variant] = self._load_result(target, variant, source.version, python)
                cached = sides[variant]
                if cached is not None:
                    print(f"\n-- {variant} side: last cached run ({cached['date']})", flush=True)
        self._conclude(target, source, python, sides, store)

    def _confirm(
        self, target: Target, source: sources.Source, regressions: list[str], *, timed_out: bool
    ) -> dict[str, list[str]]:
        """Run the regressed tests once more with ours: reproducible or intermittent?

        Either way they stay regressions (an intermittent failure is this
        library's characteristic bug); the rerun only tells the reader which.
        """
        if "ours" not in self.variants or timed_out or len(regressions) > _RERUN_LIMIT:
            return {}
        print(f"\n  re-running the {len(regressions)} regressed tests with ours:", flush=True)
        venv = venvs.Venv(self.cache / "venvs" / f"{target.key}-ours")
        run = suites.rerun(
            source,
            venv,
            self._run_dir(target, "ours"),
            regressions,
            timeout=self.args.timeout,
        )
        if run is None:
            return {}
        again = run.outcomes.results
        reproduced = [test_id for test_id in regressions if again.get(test_id) not in GOOD]
        intermittent = [test_id for test_id in regressions if again.get(test_id) in GOOD]
        for test_id in reproduced:
            print(f"    reproduced: {test_id} ({again.get(test_id, 'missing')})", flush=True)
        for test_id in intermittent:
            print(f"    INTERMITTENT (passed on rerun): {test_id}", flush=True)
        return {"reproduced_ids": reproduced, "intermittent_ids": intermittent}

    def _side_problems(self, sides: dict[str, dict[str, Any] | None]) -> list[str]:
        """What went wrong on the sides this invocation ran, before any comparison."""
        problems: list[str] = []
        for variant, side in sides.items():
            if variant not in self.variants or side is None:
                continue
            if side.get("setup_error"):
                problems.append(f"{variant} side could not be set up")
            if side.get("proof_problems"):
                problems.append("proof that ours is installed failed")
            if side.get("timed_out"):
                problems.append(f"{variant} side timed out")
        return problems

    def _conclude(
        self,
        target: Target,
        source: sources.Source,
        python: str,
        sides: dict[str, dict[str, Any] | None],
        store: dict[str, Any],
    ) -> None:
        published, ours = sides["published"], sides["ours"]
        title = f"{source.project} {source.version} on Python {python}"
        report.side_by_side(title, published, ours)
        entry: dict[str, Any] = {
            "project": source.project,
            "project_version": source.version,
            "python": python,
            "published": report.summary_entry(published),
            "ours": report.summary_entry(ours),
            "date": (ours or published or {}).get("date"),
            "commit": (ours or published or {}).get("commit", self.commit),
            "regressions": None,
            "notes": [],
        }
        if source.project == "django" and self.apps != suites.DJANGO_APPS:
            if self.apps == suites.DJANGO_APPS + suites.DJANGO_EXTRA_APPS:
                entry["scope"] = "the default Django test apps and, with --wide, " + ", ".join(
                    suites.DJANGO_EXTRA_APPS
                )
            else:
                entry["scope"] = "Django test apps " + ", ".join(self.apps)
        problems = self._side_problems(sides)
        if published is None or published.get("counts") is None:
            verdict = "no baseline"
            if "ours" in self.variants:
                problems.append("no published-asgiref baseline to compare with")
        elif ours is None or ours.get("counts") is None:
            verdict = "ours not run" if ours is None else "ours did not run"
        else:
            comparison = compare(
                Outcomes.from_json(published["outcomes"]), Outcomes.from_json(ours["outcomes"])
            )
            report.print_comparison(comparison, published, ours)
            entry.update(
                regressions=len(comparison.regressions),
                regression_ids=comparison.regressions,
                failing_both_ids=comparison.failing_both,
                failing_both_reasons={
                    test_id: _last_line(ours, test_id) or _last_line(published, test_id)
                    for test_id in comparison.failing_both
                },
                fixed_ids=comparison.fixed,
                skip_change_ids=comparison.skip_changes,
            )
            if comparison.regressions:
                problems.append(f"{len(comparison.regressions)} tests regress with ours")
                entry.update(
                    self._confirm(
                        target, source, comparison.regressions, timed_out=bool(ours["timed_out"])
                    )
                )
            verdict = "compatible"
        if problems:
            self.failures += [f"{target}: {problem}" for problem in problems]
            verdict = "; ".join(problems)
        else:
            self.passed_targets += 1
        entry["verdict"] = verdict
        if published is not None and published.get("asgiref_version") not in (None, _our_version()):
            entry["notes"].append(
                f"the newest published asgiref that installs on Python {python} is "
                f"{published['asgiref_version']}"
            )
        store[target.key] = entry

    # -- whole run --------------------------------------------------------------
    def execute(self, targets: list[Target]) -> int:
        started = time.monotonic()
        store = report.load_store(self.store_path)
        if "ours" in self.variants:
            print("==== building our wheels ====", flush=True)
            try:
                interpreter = find_interpreter(
                    targets[0].python, _interpreter_overrides(self.args.interpreter)
                )
                t0 = time.monotonic()
                self.wheels = ours_build.build(_builder([interpreter]), self.packages, self.cache)
                self.timings.append(("build our wheels", time.monotonic() - t0))
            except (CommandError, LookupError, OSError, RuntimeError, ValueError) as exc:
                print(f"  ! could not build our wheels: {exc}", flush=True)
                return 2
            for wheel in self.wheels.files:
                print(f"  {wheel.name}", flush=True)
        for target in targets:
            self.run_target(target, store)
        if not self.args.no_record:
            report.save_store(self.store_path, store)
            (DOWNSTREAM / "RESULTS.md").write_text(report.results_markdown(store), encoding="utf-8")
            print(f"\nwrote {DOWNSTREAM / 'RESULTS.md'}", flush=True)
        if self.args.update_readme is not None:
            report.update_readme(self.args.update_readme, store)
            print(f"updated the table in {self.args.update_readme}", flush=True)
        self.timings.append(("whole run", time.monotonic() - started))
        print("\n==== timings ====", flush=True)
        for label, seconds in self.timings:
            print(f"  {label:55} {seconds:7.0f} s", flush=True)
        print("\n==== summary ====", flush=True)
        print(
            report.table(
                {target.key: store[target.key] for target in targets if target.key in store}
            )
        )
        for failure in self.failures:
            print(f"  FAILED {failure}", flush=True)
        failed_targets = len(targets) - self.passed_targets
        # One closing line in the "N passed, N failed" shape CI logs understand.
        print(f"downstream: {self.passed_targets} passed, {failed_targets} failed", flush=True)
        return 1 if self.failures or failed_targets else 0


def _last_line(side: dict[str, Any], test_id: str) -> str:
    """The last line of a test's failure text: usually the exception and its message."""
    lines = str(side["outcomes"]["details"].get(test_id, "")).strip().splitlines()
    return lines[-1].strip()[:200] if lines else ""


def _show_stack_dumps(log: Path) -> None:
    """Point at the thread dumps a timed-out suite wrote, and at asgiref's frames in them."""
    dumps = sorted(log.parent.glob(f"{log.name.removesuffix('log.txt')}stacks/stacks-*.txt"))
    dumps = [dump for dump in dumps if dump.stat().st_size] or [log]
    for dump in dumps:
        lines = dump.read_text(encoding="utf-8", errors="replace").splitlines()
        frames = [line.strip() for line in lines if "/asgiref/" in line]
        print(f"  thread stacks at the time-out: {dump}", flush=True)
        for frame in dict.fromkeys(frames[:15]):
            print(f"    {frame}", flush=True)


def _our_version() -> str:
    """The version every one of our distributions carries (the meta package's)."""
    text = (REPO / "packages" / "asgiref" / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return match.group(1) if match else "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        print("\n".join(DEFAULT_TARGETS))
        return 0
    try:
        targets = _targets(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return Run(args).execute(targets)

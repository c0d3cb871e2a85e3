"""How each downstream project's own test suite is installed and run."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from .outcomes import Outcomes, read_junit, read_recorded_events
from .proc import Finished, run_logged
from .sources import Source, extra_requirements, requirements_file_lines
from .venvs import Venv

IN_VENV = Path(__file__).resolve().parent.parent / "in_venv"

# Django's test apps that exercise asgiref (sync/async bridges, Local-based
# state, ASGI handler, async views and middleware, signals, test client).
DJANGO_APPS = (
    "asgi",
    "async",
    "handlers",
    "middleware",
    "middleware_exceptions",
    "decorators",
    "deprecation",
    "signals",
    "dispatch",
    "cache",
    "sessions_tests",
    "test_client",
    "test_client_regress",
    "requests_tests",
    "urlpatterns_reverse",
    "i18n",
    "timezones",
    "backends",
    "transactions",
    "servers",
    "view_tests",
)

# From tests/requirements/py3.txt, only what those apps import: tblib makes
# tracebacks from parallel workers readable, PyYAML is exercised by
# timezones, tzdata backs zoneinfo. The rest needs services (memcached,
# redis, a browser) or compilers, and none of it touches asgiref.
_DJANGO_TEST_REQUIREMENTS = frozenset({"tblib", "pyyaml", "tzdata"})

# From daphne's "tests" extra, what its suite runs with; linters, tox and
# coverage are left out. pytest-timeout turns a hang into a failed test.
_DAPHNE_TEST_REQUIREMENTS = frozenset({"django", "hypothesis", "pytest", "pytest-asyncio"})
_HARNESS_REQUIREMENTS = ("pytest-timeout",)


@dataclass(frozen=True)
class SuiteRun:
    outcomes: Outcomes
    finished: Finished
    log: Path


def requirements(source: Source) -> list[str]:
    """What to pip-install into a fresh venv for ``source``'s test suite."""
    if source.project == "django":
        extra = requirements_file_lines(
            source.tree / "tests" / "requirements" / "py3.txt", _DJANGO_TEST_REQUIREMENTS
        )
        return [str(source.wheel), *extra]
    if source.project == "daphne":
        extra = extra_requirements(source.tree, "tests", _DAPHNE_TEST_REQUIREMENTS)
        return [str(source.wheel), *extra, *_HARNESS_REQUIREMENTS]
    raise ValueError(f"no suite defined for {source.project}")


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    env.update(extra)
    return env


def run(
    source: Source,
    venv: Venv,
    out_dir: Path,
    *,
    timeout: float,
    django_parallel: int,
    django_apps: tuple[str, ...],
) -> SuiteRun:
    """Run ``source``'s suite in ``venv`` and collect per-test outcomes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / "log.txt"
    if source.project == "django":
        events = out_dir / "events.jsonl"
        events.unlink(missing_ok=True)
        finished = run_logged(
            [
                str(venv.python),
                "runtests.py",
                "--settings=downstream_django_settings",
                f"--parallel={django_parallel}",
                "--noinput",
                "--verbosity=2",
                *django_apps,
            ],
            cwd=source.tree / "tests",
            env=_environment({"PYTHONPATH": str(IN_VENV), "DOWNSTREAM_RESULTS": str(events)}),
            log_path=log,
            timeout=timeout,
            dump_signal=signal.SIGUSR1,
        )
        return SuiteRun(read_recorded_events(events), finished, log)
    if source.project == "daphne":
        junit = out_dir / "junit.xml"
        junit.unlink(missing_ok=True)
        finished = run_logged(
            [
                # The console script, not "python -m pytest": that would put the
                # sdist's own daphne/ folder ahead of the installed package.
                str(venv.path / "bin" / "pytest"),
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                "-o",
                "junit_family=xunit2",
                "--timeout=120",
                "-rfEs",
                "tests",
            ],
            cwd=source.tree,
            env=_environment({}),
            log_path=log,
            timeout=timeout,
        )
        return SuiteRun(read_junit(junit), finished, log)
    raise ValueError(f"no suite defined for {source.project}")

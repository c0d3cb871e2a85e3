"""How each downstream project's own test suite is installed and run."""

from __future__ import annotations

import os
import shutil
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

# Further apps with async tests or asgiref imports (async auth, tasks,
# async pagination, template rendering in async views, ...). Run with --wide:
# they double the suite's time. Apps a release lacks (tasks before 6.0) are
# left out for that release.
DJANGO_EXTRA_APPS = (
    "auth_tests",
    "tasks",
    "template_tests",
    "staticfiles_tests",
    "pagination",
    "logging_tests",
    "httpwrappers",
    "generic_relations",
    "basic",
    "update_only_fields",
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


def _run_django(
    source: Source,
    venv: Venv,
    out_dir: Path,
    *,
    name: str,
    labels: list[str],
    parallel: int,
    timeout: float,
) -> SuiteRun:
    events = out_dir / f"{name}events.jsonl"
    events.unlink(missing_ok=True)
    log = out_dir / f"{name}log.txt"
    stacks = out_dir / f"{name}stacks"
    if stacks.exists():
        shutil.rmtree(stacks)
    stacks.mkdir()
    finished = run_logged(
        [
            str(venv.python),
            "runtests.py",
            "--settings=downstream_django_settings",
            f"--parallel={parallel}",
            "--noinput",
            "--verbosity=2",
            *labels,
        ],
        cwd=source.tree / "tests",
        env=_environment(
            {
                "PYTHONPATH": str(IN_VENV),
                "DOWNSTREAM_RESULTS": str(events),
                "DOWNSTREAM_STACKS": str(stacks),
            }
        ),
        log_path=log,
        timeout=timeout,
        dump_signal=signal.SIGUSR1,
    )
    return SuiteRun(read_recorded_events(events), finished, log)


def _run_daphne(
    source: Source, venv: Venv, out_dir: Path, *, name: str, node_ids: list[str], timeout: float
) -> SuiteRun:
    junit = out_dir / f"{name}junit.xml"
    junit.unlink(missing_ok=True)
    log = out_dir / f"{name}log.txt"
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
            *node_ids,
        ],
        cwd=source.tree,
        env=_environment({}),
        log_path=log,
        timeout=timeout,
    )
    return SuiteRun(read_junit(junit), finished, log)


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
    if source.project == "django":
        return _run_django(
            source,
            venv,
            out_dir,
            name="",
            labels=[app for app in django_apps if (source.tree / "tests" / app).is_dir()],
            parallel=django_parallel,
            timeout=timeout,
        )
    if source.project == "daphne":
        return _run_daphne(source, venv, out_dir, name="", node_ids=["tests"], timeout=timeout)
    raise ValueError(f"no suite defined for {source.project}")


def daphne_node_id(tree: Path, test_id: str) -> str | None:
    """The pytest node id for a JUnit ``classname::name`` id, if its file exists."""
    classname, sep, name = test_id.rpartition("::")
    if not sep:
        return None
    parts = classname.split(".")
    for split in range(len(parts), 0, -1):
        module = "/".join(parts[:split]) + ".py"
        if (tree / module).is_file():
            return "::".join([module, *parts[split:], name])
    return None


def rerun(
    source: Source, venv: Venv, out_dir: Path, test_ids: list[str], *, timeout: float
) -> SuiteRun | None:
    """Run only ``test_ids`` again, serially; None when none of them can be named.

    Ids that stand for class- or module-level events (see the Django runner)
    are not tests and cannot be selected on their own.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if source.project == "django":
        labels = [test_id for test_id in test_ids if not test_id.startswith("[")]
        if not labels:
            return None
        return _run_django(
            source, venv, out_dir, name="rerun-", labels=labels, parallel=1, timeout=timeout
        )
    if source.project == "daphne":
        nodes = [node for node in (daphne_node_id(source.tree, t) for t in test_ids) if node]
        if not nodes:
            return None
        return _run_daphne(source, venv, out_dir, name="rerun-", node_ids=nodes, timeout=timeout)
    raise ValueError(f"no suite defined for {source.project}")

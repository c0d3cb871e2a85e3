"""pytest plugin for ``nox -s against_published``: our tests, run on asgiref 3.13.0.

Loaded with ``-p pytest_against_published`` (``tools/`` on ``PYTHONPATH``) next to
``-m "not ours_only"``. Before anything runs it checks that the asgiref imported is the
published 3.13.0 with none of our distributions beside it, and that every
``ours_only(id)`` marker and every entry of a tests folder's ``OURS_ONLY_MODULES`` (its
conftest skips those modules under the published package) names an entry of
DEVIATIONS.md, so no test leaves the comparison without a written reason. Afterwards it
writes what it saw as JSON for the nox session's summary.

Environment: ``ASGIREF_DEVIATIONS`` (path of DEVIATIONS.md, required) and
``ASGIREF_PUBLISHED_REPORT`` (where the JSON goes, optional).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

MARKER = "ours_only"
# An entry of DEVIATIONS.md: "- **`sync-pooled-loop-threads`**: ...".
ENTRY = re.compile(r"^\s*[-*] \*\*`([a-z0-9][a-z0-9-]*)`\*\*", re.MULTILINE)


PUBLISHED_VERSION = "3.13.0"


def check_published_installed() -> None:
    ours = sorted(
        name
        for dist in importlib.metadata.distributions()
        if (name := str(dist.metadata["Name"]).lower()).startswith("asgiref-")
    )
    if ours:
        raise pytest.UsageError(f"our distributions are installed next to asgiref: {ours}")
    found = importlib.metadata.version("asgiref")
    if found != PUBLISHED_VERSION:
        raise pytest.UsageError(f"asgiref {found} is installed, not {PUBLISHED_VERSION}")
    import asgiref.sync

    # Ours is a package (asgiref/sync/__init__.py); the published one a single module.
    if hasattr(asgiref.sync, "__path__"):
        raise pytest.UsageError(f"asgiref.sync is imported from {asgiref.sync.__file__}")


def deviation_ids(path: Path) -> set[str]:
    return set(ENTRY.findall(path.read_text(encoding="utf-8")))


def marker_ids(item: pytest.Item) -> list[str]:
    """The ids of every ``ours_only`` marker of an item, the closest first."""
    found: list[str] = []
    for marker in item.iter_markers(MARKER):
        if len(marker.args) != 1 or marker.kwargs or not isinstance(marker.args[0], str):
            raise pytest.UsageError(
                f'{item.nodeid}: write the marker as {MARKER}("<DEVIATIONS.md id>"), '
                f"not {MARKER}(*{marker.args!r}, **{marker.kwargs!r})"
            )
        found.append(marker.args[0])
    return found


class OursOnly:
    def __init__(self, config: pytest.Config, deviations: Path) -> None:
        self.config = config
        self.deviations = deviations
        self.known = deviation_ids(deviations)
        self.deselected: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    def _check(self, used_id: str, where: str) -> None:
        if used_id not in self.known:
            raise pytest.UsageError(
                f"{where} is marked ours-only with id {used_id!r}, which is not an entry of "
                f"{self.deviations}: add the entry (what differs, and why) or fix the id"
            )

    def skipped_modules(self) -> dict[str, str]:
        """``{module path: id}`` from every loaded conftest's ``OURS_ONLY_MODULES``."""
        found: dict[str, str] = {}
        for plugin in self.config.pluginmanager.get_plugins():
            table: object = getattr(plugin, "OURS_ONLY_MODULES", None)
            conftest: object = getattr(plugin, "__file__", None)
            if not isinstance(table, dict) or not isinstance(conftest, str):
                continue
            folder = Path(conftest).parent
            entries: dict[object, object] = table  # pyright: ignore[reportUnknownVariableType]
            for module, used_id in entries.items():
                where = f"{folder / str(module)} (OURS_ONLY_MODULES in {conftest})"
                if not isinstance(module, str) or not isinstance(used_id, str):
                    raise pytest.UsageError(f"{where}: map a module's file name to an id")
                if not (folder / module).is_file():
                    raise pytest.UsageError(f"{where}: no such test module")
                self._check(used_id, where)
                found[str(folder / module)] = used_id
        return found

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # tryfirst: before `-m` deselects anything, so every marker is checked.
        self.skipped_modules()
        for item in items:
            for used_id in marker_ids(item):
                self._check(used_id, item.nodeid)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            used = marker_ids(item)
            if used:
                self.deselected[used[0]] += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.outcome] += 1

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        target = os.environ.get("ASGIREF_PUBLISHED_REPORT")
        if not target:
            return
        modules = Counter(self.skipped_modules().values())
        report: dict[str, Any] = {
            "outcomes": dict(self.outcomes),
            "ours_only_tests": dict(self.deselected),
            "ours_only_modules": dict(modules),
        }
        Path(target).write_text(json.dumps(report, indent=1), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get("ASGIREF_DEVIATIONS")
    if not path:
        raise pytest.UsageError("this plugin needs ASGIREF_DEVIATIONS=<path of DEVIATIONS.md>")
    check_published_installed()
    config.pluginmanager.register(OursOnly(config, Path(path)), "ours-only-check")

"""Source-level twin of test_versions: every pyproject.toml in the repository agrees.

The tests run from a neutral directory against installed wheels, so the repository's
location is given explicitly: set ASGIREF_REPO_ROOT to the checkout's root.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

import pytest

tomllib = pytest.importorskip(
    "tomllib", reason="tomllib is in the standard library from Python 3.11 on"
)

DISTRIBUTIONS = {
    "asgiref",
    "asgiref-types",
    "asgiref-sync",
    "asgiref-wsgi",
    "asgiref-testing",
    "asgiref-server",
}

REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*?)\s*(?:;.*)?$"
)


@pytest.fixture(scope="module")
def repo_root() -> Path:
    root = os.environ.get("ASGIREF_REPO_ROOT")
    if not root:
        pytest.skip("set ASGIREF_REPO_ROOT to the repository root to check its pyproject files")
    path = Path(root)
    assert (path / "packages").is_dir(), f"ASGIREF_REPO_ROOT={root} has no packages/ folder"
    return path


@pytest.fixture(scope="module")
def projects(repo_root: Path) -> dict[str, dict[str, Any]]:
    """The [project] table of every packages/*/pyproject.toml, by folder name."""
    found: dict[str, dict[str, Any]] = {}
    for pyproject in sorted((repo_root / "packages").glob("*/pyproject.toml")):
        with pyproject.open("rb") as file:
            found[pyproject.parent.name] = tomllib.load(file)["project"]
    return found


@pytest.fixture(scope="module")
def project_version(projects: dict[str, dict[str, Any]]) -> str:
    value: str = projects["asgiref"]["version"]
    return value


def test_every_distribution_has_a_pyproject(projects: dict[str, dict[str, Any]]) -> None:
    assert set(projects) == DISTRIBUTIONS
    for folder, project in projects.items():
        assert project["name"] == folder, "the folder name is the distribution name"


def test_every_version_agrees(projects: dict[str, dict[str, Any]], project_version: str) -> None:
    versions = {folder: project["version"] for folder, project in projects.items()}
    assert versions == dict.fromkeys(DISTRIBUTIONS, project_version)


def test_dunder_version_in_the_source_agrees(repo_root: Path, project_version: str) -> None:
    # Read without importing: the installed asgiref may not be this checkout.
    init = repo_root / "packages" / "asgiref" / "src" / "asgiref" / "__init__.py"
    values = [
        node.value.value
        for node in ast.walk(ast.parse(init.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    assert values == [project_version]


def test_siblings_are_pinned(projects: dict[str, dict[str, Any]], project_version: str) -> None:
    pins: dict[str, dict[str, str]] = {}
    for folder, project in projects.items():
        for line in project.get("dependencies", []):
            match = REQUIREMENT.match(line)
            assert match is not None, f"{folder}: cannot parse dependency {line!r}"
            name = re.sub(r"[-_.]+", "-", match["name"]).lower()
            if name == "asgiref" or name.startswith("asgiref-"):
                pins.setdefault(folder, {})[name] = match["spec"].replace(" ", "")
    assert pins, "no distribution requires a sibling: the meta-package should require all"
    assert set(pins["asgiref"]) == DISTRIBUTIONS - {"asgiref"}
    for folder, siblings in pins.items():
        for name, specifier in siblings.items():
            assert specifier == f"=={project_version}", f"{folder} requires {name}{specifier}"

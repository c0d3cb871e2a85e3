"""One version for every distribution, and every sibling pinned to it (installed metadata).

These tests read what pip installed, not the source tree, so they hold for wheels
installed anywhere as much as for the editable development install.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, requires, version

import asgiref
import pytest

DISTRIBUTIONS = (
    "asgiref",
    "asgiref-types",
    "asgiref-sync",
    "asgiref-wsgi",
    "asgiref-testing",
    "asgiref-server",
)

# Which asgiref distributions each one requires (spec 00, "Distribution split").
# asgiref-types in particular stands alone: it must not pull in any other portion.
SIBLING_REQUIREMENTS: dict[str, set[str]] = {
    "asgiref": {
        "asgiref-types",
        "asgiref-sync",
        "asgiref-wsgi",
        "asgiref-testing",
        "asgiref-server",
    },
    "asgiref-types": set(),
    "asgiref-sync": set(),
    "asgiref-wsgi": {"asgiref-sync"},
    "asgiref-testing": {"asgiref-sync", "asgiref-types"},
    "asgiref-server": {"asgiref-sync", "asgiref-types"},
}

# "name [extras] specifier ; marker", as in Requires-Dist (PEP 508 without URLs).
REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*?)\s*(?:;.*)?$"
)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sibling_requirements(distribution: str) -> dict[str, str]:
    """Map each asgiref distribution this one requires to its version specifier."""
    siblings: dict[str, str] = {}
    for line in requires(distribution) or []:
        match = REQUIREMENT.match(line)
        assert match is not None, f"{distribution}: cannot parse requirement {line!r}"
        name = normalise(match["name"])
        if name == "asgiref" or name.startswith("asgiref-"):
            siblings[name] = match["spec"].replace(" ", "")
    return siblings


@pytest.fixture(scope="module")
def project_version() -> str:
    return version("asgiref")


def test_dunder_version_matches_the_installed_metadata(project_version: str) -> None:
    assert isinstance(asgiref.__version__, str)
    assert asgiref.__version__ == project_version


def test_version_stays_in_the_3_13_series(project_version: str) -> None:
    # asgiref's own test suite treats >= 3.14 as "asgiref.timeout removed", and this
    # project still ships asgiref.timeout (spec 00, "Requirements that follow").
    major, minor = (int(part) for part in project_version.split(".")[:2])
    assert (major, minor) == (3, 13)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_every_distribution_has_the_project_version(
    distribution: str, project_version: str
) -> None:
    try:
        installed = version(distribution)
    except PackageNotFoundError:
        pytest.fail(f"{distribution} is not installed beside the asgiref meta-package")
    assert installed == project_version


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_siblings_are_pinned_to_the_project_version(
    distribution: str, project_version: str
) -> None:
    siblings = sibling_requirements(distribution)
    assert set(siblings) == SIBLING_REQUIREMENTS[distribution]
    for name, specifier in siblings.items():
        assert specifier == f"=={project_version}", f"{distribution} requires {name}{specifier}"


def test_requirement_parser_reads_markers_and_extras() -> None:
    # The parser above decides what the pin tests see, so check it on the shapes
    # Requires-Dist lines take.
    cases = {
        "asgiref-sync==3.13.0": ("asgiref-sync", "==3.13.0"),
        'typing_extensions>=4.6; python_version < "3.12"': ("typing_extensions", ">=4.6"),
        "Asgiref_Types [extra] == 3.13.0 ; extra == 'x'": ("Asgiref_Types", "== 3.13.0"),
        "asgiref-wsgi": ("asgiref-wsgi", ""),
    }
    for line, (name, spec) in cases.items():
        match = REQUIREMENT.match(line)
        assert match is not None
        assert (match["name"], match["spec"]) == (name, spec)
    assert normalise("Asgiref_Types") == "asgiref-types"

"""Build this repository's six distributions into wheels for the downstream venvs."""

from __future__ import annotations

import email.message
import email.parser
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .proc import run_step

# Build order does not matter to pip; this is also the order wheels are reported in.
DISTRIBUTIONS = (
    "asgiref-types",
    "asgiref-sync",
    "asgiref-wsgi",
    "asgiref-testing",
    "asgiref-server",
    "asgiref",
)


@dataclass(frozen=True)
class OurWheels:
    """The freshly built wheels and what they need from the package index."""

    files: tuple[Path, ...]
    third_party_requirements: tuple[str, ...]
    version: str


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(
            (item for item in archive.namelist() if item.endswith(".dist-info/METADATA")), None
        )
        if name is None:
            raise ValueError(f"{wheel.name} has no METADATA")
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build(builder: Path, packages: Path, cache: Path) -> OurWheels:
    """Build every distribution in ``packages`` into a clean wheel folder."""
    folder = cache / "wheels" / "ours"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sources = [str(packages / name) for name in DISTRIBUTIONS]
    run_step(
        [str(builder), "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(folder), *sources]
    )

    by_name: dict[str, Path] = {}
    versions: set[str] = set()
    for wheel in sorted(folder.glob("*.whl")):
        metadata = _metadata(wheel)
        by_name[_normalise(metadata["Name"])] = wheel
        versions.add(metadata["Version"])
    missing = [name for name in DISTRIBUTIONS if name not in by_name]
    if missing or len(by_name) != len(DISTRIBUTIONS):
        raise RuntimeError(
            f"expected one wheel per distribution in {folder}; missing {missing}, "
            f"found {sorted(by_name)}"
        )
    if len(versions) != 1:
        raise RuntimeError(f"our wheels disagree on the version: {sorted(versions)}")

    ours = set(DISTRIBUTIONS)
    requirements: list[str] = []
    for name in DISTRIBUTIONS:
        for requirement in _metadata(by_name[name]).get_all("Requires-Dist") or []:
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            project = _normalise(match.group(1)) if match else ""
            if project not in ours and requirement not in requirements:
                requirements.append(requirement)
    return OurWheels(
        files=tuple(by_name[name] for name in DISTRIBUTIONS),
        third_party_requirements=tuple(requirements),
        version=versions.pop(),
    )

"""Downstream sources: sdists from the package index, unpacked, and their wheels.

Everything lands under the cache directory and is reused by later runs: an
sdist is an immutable release file, so a copy already downloaded is the same
file the index would serve again.
"""

from __future__ import annotations

import email.parser
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .proc import run_step


@dataclass(frozen=True)
class Source:
    """An unpacked release of a downstream project."""

    project: str
    version: str
    sdist: Path
    tree: Path
    wheel: Path


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _find_file(folder: Path, project: str, version: str, suffix: str) -> Path | None:
    if not folder.is_dir():
        return None
    for path in folder.iterdir():
        stem = path.name.removesuffix(suffix)
        if path.name.endswith(suffix) and _normalise(stem) == _normalise(f"{project}-{version}"):
            return path
    return None


def _find_wheel(folder: Path, project: str, version: str) -> Path | None:
    if not folder.is_dir():
        return None
    prefix = _normalise(f"{project}-{version}") + "-"
    for path in folder.glob("*.whl"):
        name_and_version = "-".join(path.name.split("-")[:2])
        if (_normalise(name_and_version) + "-").startswith(prefix):
            return path
    return None


def download_sdist(builder: Path, project: str, version: str, cache: Path) -> Path:
    """The release's sdist from the package index (reused when already cached)."""
    folder = cache / "sdists"
    found = _find_file(folder, project, version, ".tar.gz")
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        run_step(
            [
                str(builder),
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                scratch,
                f"{project}=={version}",
            ]
        )
        downloaded = _find_file(Path(scratch), project, version, ".tar.gz")
        if downloaded is None:
            raise FileNotFoundError(f"pip download left no sdist for {project} {version}")
        return Path(shutil.move(downloaded, folder / downloaded.name))


def unpack(sdist: Path, cache: Path) -> Path:
    """Unpack an sdist once into ``cache/src`` and return its top directory."""
    name = sdist.name.removesuffix(".tar.gz")
    tree = cache / "src" / name
    if (tree / "PKG-INFO").is_file():
        return tree
    tree.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tree.parent) as scratch, tarfile.open(sdist) as archive:
        # The "data" filter refuses absolute paths, links out of the tree and
        # device files; interpreters without it predate the filter API.
        if hasattr(tarfile, "data_filter"):
            archive.extractall(scratch, filter="data")
        else:  # pragma: no cover - only on interpreters older than the backport
            archive.extractall(scratch)  # noqa: S202 - an sdist from the index
        tops = list(Path(scratch).iterdir())
        if len(tops) != 1 or not tops[0].is_dir():
            raise ValueError(f"{sdist.name} does not unpack into one top directory")
        if tree.exists():
            shutil.rmtree(tree)
        tops[0].rename(tree)
    return tree


def build_wheel(builder: Path, sdist: Path, project: str, version: str, cache: Path) -> Path:
    """A wheel built from the downloaded sdist (pure Python, so one serves every Python)."""
    folder = cache / "wheels" / "downstream"
    found = _find_wheel(folder, project, version)
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    run_step(
        [str(builder), "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(folder), str(sdist)]
    )
    built = _find_wheel(folder, project, version)
    if built is None:
        raise FileNotFoundError(f"pip wheel left no wheel for {project} {version} in {folder}")
    return built


def fetch(builder: Path, project: str, version: str, cache: Path) -> Source:
    """Download, unpack and build one downstream release."""
    sdist = download_sdist(builder, project, version, cache)
    tree = unpack(sdist, cache)
    wheel = build_wheel(builder, sdist, project, version, cache)
    return Source(project=project, version=version, sdist=sdist, tree=tree, wheel=wheel)


def requirement_name(line: str) -> str:
    """The normalised project name at the start of a requirement line."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return _normalise(match.group(1)) if match else ""


def requirements_file_lines(path: Path, keep: frozenset[str]) -> list[str]:
    """Requirement lines of ``path`` whose project is in ``keep`` (names normalised)."""
    lines: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and requirement_name(line) in keep:
            lines.append(line)
    return lines


def extra_requirements(tree: Path, extra: str, keep: frozenset[str]) -> list[str]:
    """Requirements the sdist's metadata lists for ``extra``, limited to ``keep``.

    The marker is dropped: it only says "when this extra is asked for".
    """
    metadata = email.parser.Parser().parsestr((tree / "PKG-INFO").read_text(encoding="utf-8"))
    lines: list[str] = []
    for requirement in metadata.get_all("Requires-Dist") or []:
        text, _, marker = requirement.partition(";")
        for_extra = re.search(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]", marker)
        if for_extra and requirement_name(text) in keep:
            lines.append(text.strip())
    return lines

"""Which downstream project, release series and Python a run covers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .proc import run_checked

PROJECTS = ("django", "daphne")

# Django 6.x needs Python >= 3.12; 5.2 LTS supports 3.10-3.13 and is the only
# current Django that runs on 3.10, where the published asgiref 3.13.0 does not
# install (its newest release for 3.10 is used as the baseline there).
DEFAULT_TARGETS = (
    "django-latest@3.12",
    "django-latest@3.13",
    "django-5.2@3.12",
    "django-5.2@3.10",
    "daphne-latest@3.12",
)

_SPEC = re.compile(
    r"^(?P<project>[a-z]+)(?:-(?P<series>latest|\d+(?:\.\d+)*))?@(?P<python>3\.\d+)$"
)


@dataclass(frozen=True)
class Target:
    """One project release series on one Python, e.g. ``django-5.2@3.10``."""

    project: str
    series: str
    python: str

    @property
    def key(self) -> str:
        """File-system-safe name used for venvs and result files."""
        return f"{self.project}-{self.series}-py{self.python}"

    def __str__(self) -> str:
        return f"{self.project}-{self.series}@{self.python}"


def parse_target(spec: str) -> Target:
    """Parse ``project[-series]@X.Y``; a missing series means the latest release."""
    match = _SPEC.match(spec.strip())
    if match is None:
        raise ValueError(
            f"bad target {spec!r}: write project[-series]@X.Y, e.g. django-5.2@3.10 or "
            "daphne-latest@3.12"
        )
    project = match["project"]
    if project not in PROJECTS:
        raise ValueError(f"unknown project {project!r} in {spec!r}; known: {', '.join(PROJECTS)}")
    return Target(project=project, series=match["series"] or "latest", python=match["python"])


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _pyenv_root() -> Path | None:
    if root := os.environ.get("PYENV_ROOT"):
        return Path(root)
    if shutil.which("pyenv"):
        completed = subprocess.run(
            ["pyenv", "root"],  # noqa: S607 - pyenv is looked up on PATH on purpose
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode == 0 and completed.stdout.strip():
            return Path(completed.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def _reports_version(executable: Path, version: str) -> bool:
    try:
        completed = run_checked(
            [str(executable), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=False,
        )
    except OSError:
        return False
    return completed.returncode == 0 and completed.stdout.strip() == version


def find_interpreter(version: str, overrides: dict[str, str]) -> Path:
    """Locate a working ``pythonX.Y``: an override, then pyenv's builds, then PATH.

    pyenv's shims are skipped in favour of the real binaries because a shim
    only works for the versions selected in the current pyenv configuration.
    """
    candidates: list[Path] = []
    if version in overrides:
        candidates.append(Path(overrides[version]))
    else:
        root = _pyenv_root()
        if root is not None:
            builds = sorted(
                (root / "versions").glob(f"{version}.*/bin/python{version}"),
                key=lambda path: _version_key(path.parent.parent.name),
                reverse=True,
            )
            candidates.extend(builds)
        on_path = shutil.which(f"python{version}")
        if on_path:
            candidates.append(Path(on_path))
    for candidate in candidates:
        if _reports_version(candidate, version):
            return candidate
    tried = ", ".join(str(path) for path in candidates) or "nothing found"
    raise LookupError(
        f"no working Python {version} interpreter (tried: {tried}); "
        f"pass --interpreter {version}=/path/to/python{version}"
    )


def interpreter_version(executable: Path) -> str:
    """Full ``X.Y.Z`` version of an interpreter."""
    completed = run_checked(
        [str(executable), "-c", "import platform; print(platform.python_version())"]
    )
    return completed.stdout.strip()


def pick_release(available: list[str], series: str) -> str:
    """Newest release of ``series`` from a newest-first list (``latest`` = the first)."""
    for version in available:
        if series in ("latest", version) or version.startswith(series + "."):
            return version
    raise LookupError(f"no release matches series {series!r} among {', '.join(available[:10])}")


def available_releases(interpreter: Path, project: str) -> list[str]:
    """Final releases of ``project`` that install on ``interpreter``, newest first.

    Asking the target interpreter's pip applies each release's
    Requires-Python, so "latest" means the latest that runs there.
    """
    completed = run_checked([str(interpreter), "-m", "pip", "index", "versions", project])
    for line in completed.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [part.strip() for part in line.split(":", 1)[1].split(",") if part.strip()]
    raise LookupError(f"pip index printed no versions for {project}:\n{completed.stdout}")

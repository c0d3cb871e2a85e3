"""Fresh virtualenvs holding a downstream project with either asgiref."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ours import DISTRIBUTIONS, OurWheels
from .proc import run_checked, run_step

PROVE_SCRIPT = Path(__file__).resolve().parent.parent / "in_venv" / "downstream_prove.py"
_READY = "downstream-ready.json"


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def pip(self, *args: str) -> str:
        return run_step([str(self.python), "-m", "pip", "--no-input", *args])


def _fingerprint(interpreter: Path, requirements: list[str]) -> str:
    data = json.dumps([str(interpreter), requirements], sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def _recorded_fingerprint(marker: Path) -> str | None:
    recorded: object = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
    return recorded if isinstance(recorded, str) else None


def prepare(
    path: Path, interpreter: Path, requirements: list[str], *, reuse: bool
) -> tuple[Venv, bool]:
    """A venv with ``requirements`` installed (pulling in the published asgiref).

    With ``reuse``, a venv that a previous run completed with the same
    interpreter and requirements is kept; otherwise it is created anew.
    Returns the venv and whether it was reused.
    """
    venv = Venv(path)
    marker = path / _READY
    fingerprint = _fingerprint(interpreter, requirements)
    if reuse and marker.is_file() and _recorded_fingerprint(marker) == fingerprint:
        return venv, True
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    run_step([str(interpreter), "-m", "venv", str(path)])
    venv.pip("install", *requirements)
    marker.write_text(json.dumps({"fingerprint": fingerprint, "requirements": requirements}))
    return venv, False


def swap_in_ours(venv: Venv, wheels: OurWheels) -> None:
    """Replace whatever provides asgiref with our wheels, installed by file path.

    Our distributions are never asked for by name: the package index may have
    no such names, or someone else's. Their third-party requirements (with
    their markers, which pip evaluates) are installed separately.
    """
    venv.pip("uninstall", "--yes", *DISTRIBUTIONS)
    venv.pip("install", "--no-deps", "--force-reinstall", *(str(path) for path in wheels.files))
    if wheels.third_party_requirements:
        venv.pip("install", *wheels.third_party_requirements)


def pip_check(venv: Venv) -> None:
    venv.pip("check")


def prove(venv: Venv, wheels: OurWheels | None) -> dict[str, Any]:
    """Run the in-venv proof; ``wheels=None`` only describes the published asgiref."""
    argv = [str(venv.python), str(PROVE_SCRIPT)]
    argv += ["ours", *(str(path) for path in wheels.files)] if wheels else ["published"]
    completed = run_checked(argv, check=False)
    try:
        report: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        report = {
            "problems": [f"proof script failed: {completed.stderr[-2000:] or completed.stdout}"]
        }
    if completed.returncode not in {0, 1}:
        report.setdefault("problems", []).append(
            f"proof script exited {completed.returncode}: {completed.stderr[-2000:]}"
        )
    return report


def freeze(venv: Venv) -> list[str]:
    completed = run_checked([str(venv.python), "-m", "pip", "freeze", "--all"])
    return completed.stdout.splitlines()

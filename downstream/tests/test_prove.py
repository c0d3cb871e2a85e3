"""The in-venv proof, run for real in a throwaway venv with hand-made wheels."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

_HAS_PIP = importlib.util.find_spec("pip") is not None
PROVE = Path(__file__).resolve().parent.parent / "in_venv" / "downstream_prove.py"


def _wheel(folder: Path, name: str, files: dict[str, str]) -> Path:
    """A minimal valid wheel holding ``files`` (path -> source text)."""
    dist = name.replace("-", "_")
    info = f"{dist}-1.0.dist-info"
    contents = {path: text.encode() for path, text in files.items()}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    contents[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record_lines = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(data)}")
    record_lines.append(f"{info}/RECORD,,")
    wheel = folder / f"{dist}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
        archive.writestr(f"{info}/RECORD", "\n".join(record_lines) + "\n")
    return wheel


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    root = tmp_path_factory.mktemp("prove")
    # The test's own pip installs into the venv (pip --python) when it has one;
    # otherwise (a uv-made environment) the venv gets its own pip.
    venv.create(root / "venv", with_pip=not _HAS_PIP)
    python = root / "venv" / "bin" / "python"
    wheels = [
        _wheel(root, "meta-part", {"asgiref/__init__.py": "__version__ = '9.9'\n"}),
        _wheel(
            root,
            "sync-part",
            {
                "asgiref/sync/__init__.py": "VALUE = 1\n",
                "asgiref/local/__init__.py": "raise ImportError('unfinished')\n",
            },
        ),
    ]
    subprocess.run(
        [*_pip(python), "install", "--no-index", "--no-deps", *map(str, wheels)],
        check=True,
        capture_output=True,
    )
    return root, python, wheels


def _pip(python: Path) -> list[str]:
    if _HAS_PIP:
        return [sys.executable, "-m", "pip", "--python", str(python)]
    return [str(python), "-m", "pip"]


def _prove(python: Path, *args: str) -> tuple[int, dict[str, Any]]:
    completed = subprocess.run(
        [str(python), str(PROVE), *args], capture_output=True, text=True, check=False
    )
    report: dict[str, Any] = json.loads(completed.stdout)
    return completed.returncode, report


def _site(python: Path) -> Path:
    completed = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(completed.stdout.strip())


def test_our_wheels_prove_themselves(environment: tuple[Path, Path, list[Path]]) -> None:
    _root, python, wheels = environment
    code, report = _prove(python, "ours", *map(str, wheels))
    assert report["problems"] == []
    assert code == 0
    assert sorted(report["providers"]) == ["meta-part", "sync-part"]
    assert report["asgiref_version"] == "9.9"
    assert report["modules"]["asgiref.sync"]["owner"] == "sync-part"
    # An unfinished module is reported as such, not as a packaging problem.
    assert report["modules"]["asgiref.local"]["error"] == "ImportError: unfinished"
    assert report["modules"]["asgiref.wsgi"]["error"] == "not installed"


def test_a_leftover_file_is_caught(environment: tuple[Path, Path, list[Path]]) -> None:
    _root, python, wheels = environment
    stray = _site(python) / "asgiref" / "wsgi.py"
    stray.write_text("leftover = True\n", encoding="utf-8")
    try:
        code, report = _prove(python, "ours", *map(str, wheels))
    finally:
        stray.unlink()
    assert code == 1
    assert (
        "asgiref/wsgi.py is on disk but no installed distribution records it" in report["problems"]
    )
    assert any("asgiref.wsgi resolves to asgiref/wsgi.py" in item for item in report["problems"])


def test_an_edited_file_is_caught(environment: tuple[Path, Path, list[Path]]) -> None:
    _root, python, wheels = environment
    target = _site(python) / "asgiref" / "sync" / "__init__.py"
    original = target.read_text(encoding="utf-8")
    target.write_text(original + "# edited\n", encoding="utf-8")
    try:
        code, report = _prove(python, "ours", *map(str, wheels))
    finally:
        target.write_text(original, encoding="utf-8")
    assert code == 1
    assert report["problems"] == [
        "asgiref/sync/__init__.py differs from the hash sync-part recorded"
    ]


def test_someone_elses_distribution_is_caught(
    environment: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    _root, python, wheels = environment
    intruder = _wheel(tmp_path, "intruder", {"asgiref/server/__init__.py": "x = 1\n"})
    pip = _pip(python)
    subprocess.run(
        [*pip, "install", "--no-index", "--no-deps", str(intruder)], check=True, capture_output=True
    )
    try:
        code, report = _prove(python, "ours", *map(str, wheels))
        _, described = _prove(python, "published")
    finally:
        subprocess.run([*pip, "uninstall", "--yes", "intruder"], check=True, capture_output=True)
    assert code == 1
    assert "intruder 1.0 provides asgiref files but is not ours" in report["problems"]
    # Describing what is installed never fails: the published side has no claim to prove.
    assert "intruder" in described["providers"]


def test_a_wheel_not_installed_from_its_file_is_caught(
    environment: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    _root, python, wheels = environment
    rebuilt = _wheel(tmp_path, "sync-part", {"asgiref/sync/__init__.py": "VALUE = 2\n"})
    code, report = _prove(python, "ours", str(wheels[0]), str(rebuilt))
    assert code == 1
    assert any(
        item.startswith("sync-part was installed from file://") for item in report["problems"]
    )
    assert (
        "sync-part's installed RECORD differs from sync_part-1.0-py3-none-any.whl's"
        in report["problems"]
    )


def test_usage_error() -> None:
    completed = subprocess.run(
        [sys.executable, str(PROVE), "ours"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert "Usage" in completed.stderr

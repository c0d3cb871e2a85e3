"""Run inside a downstream venv: say who provides ``asgiref``, and prove it is us.

Usage (with the venv's interpreter)::

    python downstream_prove.py published
    python downstream_prove.py ours WHEEL [WHEEL ...]

Prints one JSON object. With ``ours`` it exits 1 unless every check holds:

* the only installed distributions with files under ``asgiref/`` are the ones
  built into the given wheels, installed from those very files
  (``direct_url.json``) with the same RECORD entries (paths and hashes);
* every file on disk under ``site-packages/asgiref`` is recorded by one of them
  and still has the recorded hash (no leftover of the published asgiref);
* ``asgiref.__file__``, ``asgiref.sync.__file__`` and every other documented
  module resolve to such a file inside the venv's site-packages, and
  ``asgiref.__path__`` reaches nowhere else.

Module import failures are reported separately from packaging problems: an
unfinished module is a test failure to show, not a packaging lie.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import json
import sys
import sysconfig
import zipfile
from pathlib import Path

MODULES = (
    "asgiref",
    "asgiref.sync",
    "asgiref.local",
    "asgiref.current_thread_executor",
    "asgiref.timeout",
    "asgiref.compatibility",
    "asgiref.typing",
    "asgiref.wsgi",
    "asgiref.testing",
    "asgiref.server",
)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _is_asgiref_path(path: str) -> bool:
    parts = Path(path).parts
    return bool(parts) and parts[0] == "asgiref" and "__pycache__" not in parts


def _wheel_entries(wheel: Path) -> tuple[str, dict[str, str]]:
    """Distribution name and ``{path: hash}`` of the wheel's asgiref files."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record_name = next(name for name in names if name.endswith(".dist-info/RECORD"))
        metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        record = archive.read(record_name).decode("utf-8")
        metadata = archive.read(metadata_name).decode("utf-8")
    dist_name = next(
        line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Name:")
    )
    entries = {
        row[0]: row[1]
        for row in csv.reader(io.StringIO(record))
        if row and _is_asgiref_path(row[0])
    }
    return dist_name, entries


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _installed_providers(
    site: Path,
) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, str]], dict[str, str], list[str]]:
    """Distributions with files under asgiref/, their RECORD entries, file owners, problems."""
    providers: dict[str, dict[str, object]] = {}
    records: dict[str, dict[str, str]] = {}
    owner: dict[str, str] = {}
    problems: list[str] = []
    for dist in importlib.metadata.distributions():
        files = [item for item in dist.files or [] if _is_asgiref_path(item.as_posix())]
        if not files:
            continue
        name = _normalise(dist.metadata["Name"])
        location = Path(str(dist.locate_file(""))).resolve()
        if location != site:
            problems.append(f"{name} provides asgiref files from {location}, outside {site}")
        direct_url = dist.read_text("direct_url.json")
        records[name] = {
            item.as_posix(): f"{item.hash.mode}={item.hash.value}" if item.hash else ""
            for item in files
        }
        providers[name] = {
            "version": dist.version,
            "location": str(location),
            "direct_url": json.loads(direct_url).get("url") if direct_url else None,
            "files": len(files),
        }
        for item in files:
            path = item.as_posix()
            if path in owner:
                problems.append(f"{path} is recorded by both {owner[path]} and {name}")
            owner[path] = name
    return providers, records, owner, problems


def _check_disk(site: Path, records: dict[str, dict[str, str]], owner: dict[str, str]) -> list[str]:
    problems: list[str] = []
    root = site / "asgiref"
    if not root.is_dir():
        return [f"{root} does not exist"]
    for path in sorted(root.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(site).as_posix()
        name = owner.get(relative)
        if name is None:
            problems.append(f"{relative} is on disk but no installed distribution records it")
            continue
        expected = records[name].get(relative, "")
        if expected and _record_hash(path.read_bytes()) != expected:
            problems.append(f"{relative} differs from the hash {name} recorded")
    return problems


def _check_modules(
    site: Path, owner: dict[str, str]
) -> tuple[dict[str, dict[str, object]], list[str]]:
    modules: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    for module in MODULES:
        entry: dict[str, object] = {"file": None, "owner": None, "imported": False, "error": None}
        modules[module] = entry
        try:
            spec = importlib.util.find_spec(module)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
            entry["error"] = f"find_spec: {type(exc).__name__}: {exc}"
            continue
        if spec is None or spec.origin is None:
            entry["error"] = "not installed"
            continue
        origin = Path(spec.origin).resolve()
        entry["file"] = str(origin)
        try:
            relative = origin.relative_to(site).as_posix()
        except ValueError:
            problems.append(f"{module} resolves to {origin}, outside {site}")
            continue
        entry["owner"] = owner.get(relative)
        if entry["owner"] is None:
            problems.append(f"{module} resolves to {relative}, which no distribution records")
        try:
            imported = importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - an unfinished module is reported
            entry["error"] = f"{type(exc).__name__}: {exc}"
            continue
        entry["imported"] = True
        if Path(str(imported.__file__)).resolve() != origin:
            problems.append(f"{module}.__file__ is {imported.__file__}, not {origin}")
    package = sys.modules.get("asgiref")
    if package is not None:
        for entry_path in getattr(package, "__path__", []):
            try:
                Path(entry_path).resolve().relative_to(site)
            except ValueError:
                problems.append(f"asgiref.__path__ reaches {entry_path}, outside {site}")
    return modules, problems


def _check_ours(
    wheels: list[Path],
    providers: dict[str, dict[str, object]],
    records: dict[str, dict[str, str]],
) -> list[str]:
    problems: list[str] = []
    expected: dict[str, tuple[Path, dict[str, str]]] = {}
    for wheel in wheels:
        name, entries = _wheel_entries(wheel)
        expected[_normalise(name)] = (wheel, entries)
    problems.extend(
        f"{name} {providers[name]['version']} provides asgiref files but is not ours"
        for name in sorted(set(providers) - set(expected))
    )
    for name, (wheel, entries) in sorted(expected.items()):
        provider = providers.get(name)
        if provider is None:
            problems.append(f"our {name} is not installed")
            continue
        if provider["direct_url"] != wheel.resolve().as_uri():
            problems.append(f"{name} was installed from {provider['direct_url']}, not {wheel}")
        if records[name] != entries:
            problems.append(f"{name}'s installed RECORD differs from {wheel.name}'s")
    return problems


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"ours", "published"} or (argv[0] == "ours") != (len(argv) > 1):
        print(__doc__, file=sys.stderr)
        return 2
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    providers, records, owner, problems = _installed_providers(site)
    if argv[0] == "ours":
        problems += _check_ours([Path(arg) for arg in argv[1:]], providers, records)
    problems += _check_disk(site, records, owner)
    modules, module_problems = _check_modules(site, owner)
    problems += module_problems
    version = None
    if modules["asgiref"]["imported"]:
        version = getattr(sys.modules["asgiref"], "__version__", None)
    report = {
        "mode": argv[0],
        "site_packages": str(site),
        "asgiref_version": version,
        "providers": providers,
        "modules": modules,
        "problems": problems,
    }
    print(json.dumps(report, indent=2, sort_keys=True))
    return 1 if problems and argv[0] == "ours" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

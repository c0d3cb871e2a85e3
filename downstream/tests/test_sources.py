from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from harness.sources import extra_requirements, requirement_name, requirements_file_lines, unpack


def test_requirement_name_is_normalised() -> None:
    assert requirement_name("PyYAML >= 6.0.2") == "pyyaml"
    assert requirement_name("pytest_asyncio; extra == 'x'") == "pytest-asyncio"
    assert requirement_name("   ") == ""


def test_requirements_file_keeps_only_what_is_asked(tmp_path: Path) -> None:
    requirements = tmp_path / "py3.txt"
    requirements.write_text(
        "aiosmtpd >= 1.4.5\nPyYAML >= 6.0.2\n# pylibmc/libmemcached comment\n"
        "pylibmc; sys_platform != 'win32'\ntblib >= 3.0.0  # trailing comment\ntzdata\n",
        encoding="utf-8",
    )
    assert requirements_file_lines(requirements, frozenset({"pyyaml", "tblib", "tzdata"})) == [
        "PyYAML >= 6.0.2",
        "tblib >= 3.0.0",
        "tzdata",
    ]


def test_extra_requirements_from_pkg_info(tmp_path: Path) -> None:
    (tmp_path / "PKG-INFO").write_text(
        "Metadata-Version: 2.4\nName: daphne\nVersion: 4.2.3\n"
        "Requires-Dist: asgiref<4,>=3.5.2\n"
        'Requires-Dist: django; extra == "tests"\n'
        'Requires-Dist: pytest>=8; extra == "tests"\n'
        'Requires-Dist: black; extra == "tests"\n'
        'Requires-Dist: sphinx; extra == "docs"\n',
        encoding="utf-8",
    )
    assert extra_requirements(tmp_path, "tests", frozenset({"django", "pytest", "sphinx"})) == [
        "django",
        "pytest>=8",
    ]


def _sdist(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_unpack_once_into_the_cache(tmp_path: Path) -> None:
    sdist = _sdist(
        tmp_path / "demo-1.0.tar.gz",
        {"demo-1.0/PKG-INFO": b"Name: demo\n", "demo-1.0/tests/t.py": b"x = 1\n"},
    )
    tree = unpack(sdist, tmp_path / "cache")
    assert tree == tmp_path / "cache" / "src" / "demo-1.0"
    assert (tree / "tests" / "t.py").read_bytes() == b"x = 1\n"
    (tree / "tests" / "t.py").write_bytes(b"changed\n")
    assert unpack(sdist, tmp_path / "cache") == tree  # reused, not unpacked again
    assert (tree / "tests" / "t.py").read_bytes() == b"changed\n"


def test_unpack_refuses_an_sdist_without_one_top_folder(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path / "bad-1.0.tar.gz", {"a/PKG-INFO": b"", "b/PKG-INFO": b""})
    with pytest.raises(ValueError, match="one top directory"):
        unpack(sdist, tmp_path / "cache")

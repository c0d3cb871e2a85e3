from __future__ import annotations

import sys
from pathlib import Path

import pytest
from harness.targets import Target, find_interpreter, parse_target, pick_release


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("django-5.2@3.10", Target("django", "5.2", "3.10")),
        ("django-latest@3.12", Target("django", "latest", "3.12")),
        ("daphne@3.13", Target("daphne", "latest", "3.13")),
        ("django-5.2.19@3.12", Target("django", "5.2.19", "3.12")),
    ],
)
def test_parse_target(spec: str, expected: Target) -> None:
    assert parse_target(spec) == expected


@pytest.mark.parametrize(
    "spec", ["django", "django-5.2", "flask@3.12", "django@312", "django-x@3.12"]
)
def test_bad_target_says_how_to_write_one(spec: str) -> None:
    with pytest.raises(ValueError, match=r"project|known"):
        parse_target(spec)


def test_target_key_is_a_file_name() -> None:
    assert Target("django", "5.2", "3.10").key == "django-5.2-py3.10"
    assert str(Target("django", "5.2", "3.10")) == "django-5.2@3.10"


RELEASES = ["6.1.3", "6.1", "6.0.10", "5.2.19", "5.2.1", "5.2", "5.1.15"]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ("latest", "6.1.3"),
        ("5.2", "5.2.19"),
        ("6.0", "6.0.10"),
        ("6.1", "6.1.3"),
        ("5.2.1", "5.2.1"),
    ],
)
def test_pick_release(series: str, expected: str) -> None:
    assert pick_release(RELEASES, series) == expected


def test_pick_release_does_not_confuse_5_2_with_5_21() -> None:
    assert pick_release(["5.21.0", "5.2.3"], "5.2") == "5.2.3"


def test_pick_release_with_no_match() -> None:
    with pytest.raises(LookupError, match=r"series '4\.2'"):
        pick_release(RELEASES, "4.2")


def test_interpreter_override_is_verified() -> None:
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert find_interpreter(version, {version: sys.executable}) == Path(sys.executable)
    with pytest.raises(LookupError, match=r"--interpreter 3\.99="):
        find_interpreter("3.99", {"3.99": sys.executable})

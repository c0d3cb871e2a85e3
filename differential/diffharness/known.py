"""Accepted differences: each matches some differences and says why they are accepted."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .compare import Difference


@dataclass(frozen=True)
class KnownDifference:
    """One entry of known.json.

    ``signature`` is an fnmatch pattern on Difference.signature; ``published`` and ``ours``
    are partial events: every key given must be present with that value (recursively for
    dicts; a string value starting with ``~`` is an fnmatch pattern). ``deviation`` is the
    id of the DEVIATIONS.md entry that accepts the difference (several matchers may share
    one); ``reason`` is one line saying why it matches.
    """

    id: str
    deviation: str
    reason: str
    signature: str
    published: Any = None
    ours: Any = None

    def matches(self, difference: Difference) -> bool:
        return (
            fnmatch.fnmatchcase(difference.signature, self.signature)
            and _contains(difference.published, self.published)
            and _contains(difference.ours, self.ours)
        )


def _contains(value: Any, pattern: Any) -> bool:
    if pattern is None:
        return True
    if isinstance(pattern, dict):
        wanted = cast("dict[str, Any]", pattern)
        return isinstance(value, dict) and all(
            key in value and _contains(value[key], sub) for key, sub in wanted.items()
        )
    if isinstance(pattern, str) and pattern.startswith("~"):
        # "~f*": an fnmatch pattern on a string value (e.g. any "same as frame N").
        return isinstance(value, str) and fnmatch.fnmatchcase(value, pattern[1:])
    return bool(value == pattern)


def load(path: Path) -> list[KnownDifference]:
    """Read known.json, refusing entries without an id, a signature or a reason."""
    data = json.loads(path.read_text())
    entries: list[KnownDifference] = []
    for raw in data.get("known", []):
        missing = [key for key in ("id", "deviation", "signature", "reason") if not raw.get(key)]
        if missing:
            raise ValueError(f"{path}: entry {raw!r} lacks {', '.join(missing)}")
        unknown = set(raw) - {"id", "deviation", "signature", "reason", "published", "ours"}
        if unknown:
            raise ValueError(f"{path}: entry {raw['id']!r} has unknown keys {sorted(unknown)}")
        entries.append(KnownDifference(**raw))
    ids = [entry.id for entry in entries]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate ids in {ids}")
    return entries


def deviation_ids(deviations: Path) -> set[str]:
    """The entry ids of DEVIATIONS.md (each written as ``**`id`**``)."""
    return set(re.findall(r"\*\*`([a-z0-9-]+)`\*\*", deviations.read_text()))


def unlisted_deviations(entries: list[KnownDifference], deviations: Path) -> list[str]:
    """Known entries whose ``deviation`` is not an entry of DEVIATIONS.md."""
    listed = deviation_ids(deviations)
    return [
        f"{entry.id} -> {entry.deviation}" for entry in entries if entry.deviation not in listed
    ]


def first_match(entries: list[KnownDifference], difference: Difference) -> KnownDifference | None:
    return next((entry for entry in entries if entry.matches(difference)), None)

"""Walk two traces side by side and name every place where they differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]
# Traces a runner gives instead of events when a program did not run to its end.
ABORTED = ("hang", "crash", "skipped")


@dataclass(frozen=True)
class Difference:
    """One place where the traces of one program differ.

    ``signature`` names the kind of difference (event kind and field) and stays the same while
    hypothesis shrinks the program; ``published`` and ``ours`` are the events (without their
    nested bodies) or, where one side has more events than the other, the extra ones.
    """

    program: int
    path: str
    signature: str
    published: Any
    ours: Any


def differences(published: list[list[Event]], ours: list[list[Event]]) -> list[Difference]:
    found: list[Difference] = []
    for index, (left, right) in enumerate(zip(published, ours, strict=True)):
        found += trace_differences(index, left, right)
    return found


def trace_differences(index: int, published: list[Event], ours: list[Event]) -> list[Difference]:
    aborted = [
        side for side, trace in (("published", published), ("ours", ours)) if _aborted(trace)
    ]
    if aborted and published != ours:
        kinds = "+".join(
            f"{trace[0]['ev']}:{side}"
            for side, trace in (("published", published), ("ours", ours))
            if _aborted(trace)
        )
        return [Difference(index, "", kinds, published, ours)]
    found: list[Difference] = []
    _walk_events(index, "", published, ours, found)
    return found


def _aborted(trace: list[Event]) -> bool:
    return len(trace) == 1 and trace[0].get("ev") in ABORTED


def _walk_events(
    index: int, path: str, left: list[Event], right: list[Event], out: list[Difference]
) -> None:
    for position, (a, b) in enumerate(zip(left, right, strict=False)):
        _walk_event(index, f"{path}/{position}", a, b, out)
    if len(left) != len(right):
        shorter = min(len(left), len(right))
        out.append(
            Difference(
                index,
                f"{path}/{shorter}:",
                f"{_parent_kind(left, right)}.length",
                left[shorter:],
                right[shorter:],
            )
        )


def _parent_kind(left: list[Event], right: list[Event]) -> str:
    """The kind of the first extra event names a length difference (e.g. "a2s.length")."""
    longer = left if len(left) > len(right) else right
    return str(longer[min(len(left), len(right))].get("ev", "?"))


def _walk_event(index: int, path: str, a: Event, b: Event, out: list[Difference]) -> None:
    kind = a.get("ev")
    if kind != b.get("ev"):
        out.append(Difference(index, path, f"{kind}|{b.get('ev')}", _flat(a), _flat(b)))
        return
    flat_a, flat_b = _flat(a), _flat(b)
    # One difference per field: a probe whose task factory differs must not hide its timers.
    out.extend(
        Difference(index, f"{path}:{kind}", _signature(kind, field, a), flat_a, flat_b)
        for field in sorted(set(flat_a) | set(flat_b))
        if flat_a.get(field, _MISSING) != flat_b.get(field, _MISSING)
    )
    _walk_events(index, f"{path}:{kind}.body", a.get("body", []), b.get("body", []), out)


_MISSING = object()


def _flat(event: Event) -> Event:
    return {k: v for k, v in event.items() if k != "body"}


def _signature(kind: object, field: str, event: Event) -> str:
    # Which Local is involved matters: a thread_critical one (l=1) leaking is another bug.
    if kind in ("lget", "lset", "ldel"):
        return f"{kind}.{field}[l={event.get('l')}]"
    return f"{kind}.{field}"

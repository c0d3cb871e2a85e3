from __future__ import annotations

from typing import Any

from diffharness.compare import differences, trace_differences


def frame(n: int, thread: str) -> dict[str, Any]:
    return {"ev": "frame", "n": n, "thread": thread}


def test_equal_traces_have_no_difference() -> None:
    trace = [frame(0, "main"), {"ev": "a2s", "fnl": False, "body": [frame(1, "new")], "ret": "r1"}]
    assert differences([trace], [trace]) == []


def test_a_nested_field_is_named_by_event_kind_and_field() -> None:
    left = [frame(0, "main"), {"ev": "a2s", "fnl": False, "body": [frame(1, "new")], "ret": "r1"}]
    right = [frame(0, "main"), {"ev": "a2s", "fnl": False, "body": [frame(1, "f0")], "ret": "r1"}]
    (found,) = trace_differences(3, left, right)
    assert found.program == 3
    assert found.signature == "frame.thread"
    assert found.path == "/1:a2s.body/0:frame"
    assert found.published == frame(1, "new")
    assert found.ours == frame(1, "f0")


def test_each_differing_field_is_its_own_difference() -> None:
    left = [{"ev": "probe", "task_factory": "m0", "debug": True, "timers": ["no"]}]
    right = [{"ev": "probe", "task_factory": "none", "debug": False, "timers": ["no"]}]
    signatures = [d.signature for d in trace_differences(0, left, right)]
    assert signatures == ["probe.debug", "probe.task_factory"]


def test_which_local_is_part_of_the_signature() -> None:
    left = [{"ev": "lget", "l": 1, "a": "a", "v": "<unset>"}]
    right = [{"ev": "lget", "l": 1, "a": "a", "v": 2}]
    assert [d.signature for d in trace_differences(0, left, right)] == ["lget.v[l=1]"]


def test_extra_events_are_one_length_difference() -> None:
    left = [frame(0, "main"), {"ev": "peek"}, {"ev": "sleep"}]
    right = [frame(0, "main")]
    (found,) = trace_differences(0, left, right)
    assert found.signature == "peek.length"
    assert found.published == [{"ev": "peek"}, {"ev": "sleep"}]
    assert found.ours == []


def test_a_hang_is_one_difference_naming_the_side() -> None:
    (found,) = trace_differences(0, [frame(0, "main")], [{"ev": "hang"}])
    assert found.signature == "hang:ours"

"""Hypothesis strategies for programs: JSON-able trees of steps (format: differential/README.md).

A program is ``{"steps": [...]}`` run from the main thread; a batch is a list of programs run
one after the other in one process. Alternatives are listed simplest first because hypothesis
shrinks ``one_of`` towards its first branch and ``sampled_from`` towards its first element.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

Strategy = SearchStrategy[Any]

Step = dict[str, Any]

# Nesting of a2s calls: two reach main -> a2s -> s2a -> a2s -> s2a.
MAX_DEPTH = 2
MAX_BODY = 3


def _same(value: Any) -> Any:
    return value


def _group(*alternatives: Strategy) -> Strategy:
    """One branch for a weighted one_of: hypothesis flattens nested one_ofs, a map it keeps."""
    return st.one_of(*alternatives).map(_same)


def _weighted(*choices: tuple[Strategy, int]) -> Strategy:
    """Draw one of ``choices`` with the given weights, shrinking towards the first.

    (one_of drops a branch given twice and spreads its draws unevenly over mapped branches, so
    weights are spelt out as a table.)
    """
    table = [strategy for strategy, weight in choices for _ in range(weight)]
    return st.sampled_from(table).flatmap(_same)


def _step(kind: str, required: dict[str, Any], optional: dict[str, Any] | None = None) -> Strategy:
    return st.fixed_dictionaries({"k": st.just(kind), **required}, optional=optional or {})


LOCAL_INDEX = st.integers(0, 1)  # 0: Local(), 1: Local(thread_critical=True)
ATTRIBUTE = st.sampled_from(["a", "b"])
VALUE = st.integers(1, 3)
VAR_INDEX = st.integers(0, 1)
# None: a new ThreadSensitiveContext; n: enter again the one made n-th (modulo how many exist).
REUSE = st.one_of(st.none(), st.integers(0, 2))

COMMON_STEPS = _group(
    _step("lget", {"l": LOCAL_INDEX, "a": ATTRIBUTE}),
    _step("lset", {"l": LOCAL_INDEX, "a": ATTRIBUTE, "v": VALUE}),
    _step("ldel", {"l": LOCAL_INDEX, "a": ATTRIBUTE}),
    _step("cget", {"c": VAR_INDEX}),
    _step("cset", {"c": VAR_INDEX, "v": VALUE}),
    _step("creset", {"c": VAR_INDEX}),
    _step("peek", {}),
    _step(
        "raise",
        {
            "t": st.sampled_from(["ValueError", "KeyError", "ProgramError"]),
            "m": st.sampled_from(["boom", ""]),
        },
    ),
)

# How a call step reports: through the function or the class, re-raising what it recorded,
# and whether the caller peeks at locals and contextvars right after the hop.
CALL_OPTIONS = {"cls": st.booleans(), "reraise": st.booleans(), "peek": st.booleans()}

LOOP_STEPS = _group(
    _step("probe", {}),
    _step(
        "loop",
        {
            "op": st.sampled_from(
                ["call_later", "task_factory", "exception_handler", "debug", "default_executor"]
            )
        },
    ),
)

WSGI_STEP = _step(
    "wsgi",
    {
        "app": st.sampled_from(
            ["hello", "echo", "chunks", "write", "error_before", "error_after", "replaced", "lines"]
        ),
        "method": st.sampled_from(["GET", "POST"]),
        "path": st.sampled_from(["/", "/root/x", "/a b/é"]),
        "root": st.sampled_from(["", "/root"]),
        "query": st.sampled_from(["", "q=1&r=%20"]),
        "headers": st.lists(
            st.sampled_from(
                [
                    ("content-type", "text/plain"),
                    ("x-a", "1"),
                    ("x-a", "2"),
                    ("content-length", "4"),
                    ("cookie", "c=1"),
                ]
            ).map(list),
            max_size=3,
        ),
        "body": st.lists(st.sampled_from(["", "ab", "l1\nl2\n", "xyz"]), min_size=1, max_size=3),
        "disconnect": st.sampled_from(["none", "after", "mid", "before"]),
        "nothing_first": st.booleans(),
    },
)


@cache
def sync_step(depth: int) -> Strategy:
    if depth == 0:
        return COMMON_STEPS
    body = st.lists(async_step(depth - 1), max_size=MAX_BODY)
    a2s = _step("a2s", {"fnl": st.booleans(), "body": body}, CALL_OPTIONS)
    astc = _step(
        "astc",
        {"body": st.lists(sync_step(depth - 1), max_size=MAX_BODY)},
        {"reraise": st.booleans()},
    )
    # Repeated branches weigh the draw: bridges are where the behaviour is.
    return _weighted((a2s, 5), (COMMON_STEPS, 3), (astc, 1))


@cache
def async_step(depth: int) -> Strategy:
    sync_body = st.lists(sync_step(depth), max_size=MAX_BODY)
    s2a = _step("s2a", {"ts": st.booleans(), "body": sync_body}, CALL_OPTIONS)
    tsc = _step(
        "tsc",
        {"reuse": REUSE, "body": st.lists(in_context(depth), max_size=MAX_BODY)},
        {"reraise": st.booleans()},
    )
    cancel = _step(
        "cancel",
        {
            # Not "after one yield": whether the function has started by then is a race.
            "when": st.sampled_from(["before", "running"]),
            "ts": st.booleans(),
            "body": sync_body,
        },
    )
    other = _group(_step("sleep", {}), _step("misuse", {}))
    return _weighted(
        (s2a, 4),
        (COMMON_STEPS, 4),
        (LOOP_STEPS, 3),
        (WSGI_STEP, 2),
        (tsc, 2),
        (cancel, 1),
        (other, 1),
    )


@cache
def in_context(depth: int) -> Strategy:
    """What a ThreadSensitiveContext block holds; a nested block may re-enter the same object."""
    nested = _step(
        "tsc",
        {"reuse": REUSE, "body": st.lists(st.one_of(COMMON_STEPS, LOOP_STEPS), max_size=MAX_BODY)},
    )
    s2a = _step(
        "s2a",
        {"ts": st.booleans(), "body": st.lists(sync_step(depth), max_size=MAX_BODY)},
        CALL_OPTIONS,
    )
    return _weighted((s2a, 2), (COMMON_STEPS, 2), (LOOP_STEPS, 1), (nested, 1))


def programs() -> Strategy:
    return st.fixed_dictionaries({"steps": st.lists(sync_step(MAX_DEPTH), min_size=1, max_size=3)})


def batches(max_programs: int = 3) -> Strategy:
    """Programs run in order in one process: what one leaves behind, the next may observe."""
    return st.lists(programs(), min_size=1, max_size=max_programs)


def _call(*body: Step, fnl: bool = False) -> Step:
    return {"k": "a2s", "fnl": fnl, "body": list(body)}


def _wsgi(app: str, *, disconnect: str = "none", nothing_first: bool = False) -> Step:
    return {
        "k": "wsgi",
        "app": app,
        "method": "GET",
        "path": "/",
        "root": "",
        "query": "",
        "headers": [],
        "body": [""],
        "disconnect": disconnect,
        "nothing_first": nothing_first,
    }


_PROBE: Step = {"k": "probe"}

# Hand-written batches run before the generated ones, so that every run, however short,
# covers the shapes where state can outlive a call: one call changes something, a later
# top-level call (or the next program) looks. The generator reaches them too, less surely.
SEED_BATCHES: list[list[Step]] = [
    *[
        [{"steps": [_call({"k": "loop", "op": op}), _call(_PROBE)]}]
        for op in ("call_later", "task_factory", "exception_handler", "debug", "default_executor")
    ],
    [{"steps": [_call({"k": "loop", "op": "task_factory"})]}, {"steps": [_call(_PROBE)]}],
    [
        {
            "steps": [
                _call({"k": "lset", "l": 1, "a": "a", "v": 1}),
                _call({"k": "lget", "l": 1, "a": "a"}),
            ]
        }
    ],
    [
        {
            "steps": [
                _call(
                    {"k": "tsc", "reuse": None, "body": []},
                    {"k": "tsc", "reuse": 0, "body": []},
                    {"k": "peek"},
                )
            ]
        }
    ],
    [{"steps": [_call(_wsgi("hello", nothing_first=True))]}],
    [{"steps": [_call(_wsgi("echo", disconnect="after"))]}],
    *[
        [{"steps": [_call({"k": "cancel", "when": "running", "ts": ts, "body": [{"k": "peek"}]})]}]
        for ts in (True, False)
    ],
]
